"""The Coralogix dialect over gRPC: servicers and the wrapper every RPC goes through."""
