"""casekeeper: a self-hosted case & incident management server."""
