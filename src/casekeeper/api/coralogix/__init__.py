"""The Coralogix dialects: Cases and Case Events over gRPC and REST, and casekeeper.v1."""
