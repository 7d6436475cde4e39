#!/usr/bin/env bash
# Run the whole test suite. CASEKEEPER_TEST_DATABASE_URL=postgresql://… runs it on PostgreSQL
# (a private database is created beside that URL); the default is SQLite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
# The real Prometheus Alertmanager for tests/ingest (REAL_CLIENTS.md §1): installed if missing and
# apt can (as root); without it those tests skip, saying why.
if ! command -v prometheus-alertmanager >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 \
    && [ "$(id -u)" = 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus-alertmanager >/dev/null
fi
# Debian's Chromium for the console's browser tests (tests/web, REAL_CLIENTS.md §3), and axe-core
# from npm for their accessibility checks: installed if missing and possible, else they skip.
if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 \
    && [ "$(id -u)" = 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
AXE=.ci/.cache/axe
if [ ! -f $AXE/node_modules/axe-core/axe.min.js ] && command -v npm >/dev/null 2>&1; then
  mkdir -p $AXE && npm install --silent --no-audit --no-fund --prefix $AXE axe-core@4.14.1 >/dev/null
fi
echo "== test suite on ${CASEKEEPER_TEST_DATABASE_URL:-SQLite} =="
exec .venv/bin/python -m pytest -q -p no:cacheprovider -n 2 "$@"
