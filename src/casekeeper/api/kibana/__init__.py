"""Kibana's Cases API over casekeeper's cases (docs/KIBANA.md): ``/api/cases`` in the default
space and ``/s/{space_id}/api/cases`` in the others. Imports no other dialect."""
