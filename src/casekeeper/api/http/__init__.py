"""The REST adapter: Coralogix Cases and Case Events over HTTP/JSON, per the public specs."""
