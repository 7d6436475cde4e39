"""The Coralogix Case Settings API (``com.coralogixapis.cases.v1.CaseSettingsService``):
messages ⇄ domain settings (``convert``), and one function per RPC shared by the gRPC servicer
and the REST routes (``ops``)."""
