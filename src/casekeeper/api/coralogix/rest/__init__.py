"""The Coralogix dialect over REST: the specs' routes, one handler, JSON parsing and rendering."""
