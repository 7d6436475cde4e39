#!/usr/bin/env bash
# Run the whole test suite. CASEKEEPER_TEST_DATABASE_URL=postgresql://… runs it on PostgreSQL
# (a private database is created beside that URL); the default is SQLite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
echo "== test suite on ${CASEKEEPER_TEST_DATABASE_URL:-SQLite} =="
exec .venv/bin/python -m pytest -q -p no:cacheprovider -n 2 "$@"
