#!/usr/bin/env bash
# Install, migrate, load demo data, create an API key, print how to call the server, serve.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
export CASEKEEPER_DATABASE_URL=${CASEKEEPER_DATABASE_URL:-sqlite:///./casekeeper.db}
GRPC=${CASEKEEPER_GRPC_ADDRESS:-127.0.0.1:50051}
HTTP=${CASEKEEPER_HTTP_ADDRESS:-127.0.0.1:8080}
CK=.venv/bin/casekeeper
$CK db upgrade >/dev/null
$CK demo
KEY=$($CK keys create --name "demo $(date -u +%Y-%m-%dT%H:%M:%SZ)" \
  -p case:Read -p case:Update -p case:Assign -p case:Acknowledge -p case:Close -p case:Comment \
  -p incidents:read -p incidents:assign -p incidents:acknowledge -p incidents:close -p signals:Write \
  -p case-config:Read -p case-config:Update \
  --json | .venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)["key"])')
WS=$($CK spaces list --json | .venv/bin/python -c \
  'import json,sys; print(next(s["uuid"] for s in json.load(sys.stdin) if s["name"] == "default"))')
cat <<TXT

The web console: open http://$HTTP/ and log in as bob (responder), alice (admin) or carol
(viewer), password casekeeper-demo (demo data only). Press ? there for the keyboard shortcuts.

API key (all case and incident permissions, space "default"; the demo loaded cases, incidents and alerts):

  $KEY

Try it (grpcurl is in .venv/bin), e.g. the Coralogix docs' GetCase:

  .venv/bin/grpcurl -plaintext -H "Authorization: Bearer $KEY" -d @ $GRPC com.coralogixapis.cases.v1.CasesService/GetCase <<EOF
  { "id": "case-1" }
  EOF

  .venv/bin/grpcurl -plaintext -H "Authorization: Bearer $KEY" -d '{"filters":{"statuses":["CASE_STATUS_ACTIVE"]},"orderBy":{"field":"CASE_ORDER_BY_FIELD_PRIORITY","direction":"CASE_ORDER_BY_DIRECTION_DESCENDING"}}' $GRPC com.coralogixapis.cases.v1.CasesService/ListCases

The Incidents API (docs/INCIDENTS_API.md), e.g. the triggered incidents, newest first:

  .venv/bin/grpcurl -plaintext -H "Authorization: Bearer $KEY" -d '{"filter":{"status":["INCIDENT_STATUS_TRIGGERED"]},"pagination":{"pageSize":5}}' $GRPC com.coralogixapis.incidents.v1.IncidentsService/ListIncidents
  curl -s -H "Authorization: Bearer $KEY" http://$HTTP/incidents/incidents/v1/events/count

Alerts in: point an Alertmanager receiver at http://$HTTP/ingest/alertmanager with this key as
its Bearer credentials (README, "Signals in"), or send one from the terminal:

  CASEKEEPER_API_KEY=$KEY .venv/bin/casekeeper signals send --url http://$HTTP --title "Backups failing" -l service=backup --severity error
  curl -s -H "Authorization: Bearer $KEY" http://$HTTP/ingest/cases/CASE-58/explanation

An alert event opens an incident in a given case (the admin way):

  .venv/bin/grpcurl -plaintext -H "Authorization: Bearer $KEY" -d '{"caseId": "CASE-1", "alertId": "disk-full", "name": "Disk above 90% on db-1", "state": "INCIDENT_STATE_TRIGGERED", "cxEventKey": "evt-1", "severity": "INCIDENT_SEVERITY_ERROR", "groupBy": {"host": "db-1"}}' $GRPC casekeeper.v1.CaseAdminService/RecordAlertEvent

REST, as in Coralogix's OpenAPI specs (docs: http://$HTTP/docs):

  curl -s -H "Authorization: Bearer $KEY" http://$HTTP/mgmt/openapi/latest/cases/cases/v1/case-1

Or at the terminal: .venv/bin/casekeeper cases list

Kibana's Cases API (docs/KIBANA.md), as demo user alice (users bob and carol too; password
casekeeper-demo: demo data only):

  curl -s -u alice:casekeeper-demo "http://$HTTP/api/cases/_find?status=in-progress&perPage=5"
  curl -s -u alice:casekeeper-demo -H 'kbn-xsrf: true' -H 'content-type: application/json' http://$HTTP/api/cases -d '{"title":"Checkout slow","description":"","tags":["checkout"],"owner":"observability","settings":{"syncAlerts":false},"connector":{"id":"none","name":"none","type":".none","fields":null}}'

Tracecat's cases API (docs/TRACECAT.md): log in once (a session cookie), then work in the
workspace $WS (space "default"):

  curl -s -c /tmp/casekeeper.jar -d 'username=bob&password=casekeeper-demo' http://$HTTP/auth/login
  curl -s -b /tmp/casekeeper.jar "http://$HTTP/cases?workspace_id=$WS&limit=5"
  curl -s -b /tmp/casekeeper.jar "http://$HTTP/cases/search?workspace_id=$WS&status=on_hold&severity=high"
  curl -s -b /tmp/casekeeper.jar "http://$HTTP/cases/search/aggregate?workspace_id=$WS"

The change feed the console uses (docs/EVENTS_STREAM.md): every change in the space, live:

  curl -sN -H "Authorization: Bearer $KEY" "http://$HTTP/api/v1/events/stream"

Outgrown one process (docs/SCALING.md)? Copy this file into PostgreSQL, then serve from it
with a process per core (stop this server first; docs/BACKUP.md):

  createdb -h 127.0.0.1 -U postgres casekeeper
  .venv/bin/casekeeper db copy --to postgresql://postgres@127.0.0.1:5432/casekeeper
  CASEKEEPER_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/casekeeper .venv/bin/casekeeper serve --processes 2 --grpc $GRPC --http $HTTP

TXT
exec $CK serve --grpc "$GRPC" --http "$HTTP"
