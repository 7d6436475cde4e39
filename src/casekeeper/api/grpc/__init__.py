"""The gRPC adapter: Coralogix CasesService/CaseEventsService and casekeeper.v1 services."""
