#!/usr/bin/env bash
# Branch coverage of src/ across test runs; settings in pyproject.toml's [tool.coverage.*].
#   scripts/coverage.sh start         forget earlier measurements
#   scripts/coverage.sh test [ARGS]   the README's test command (scripts/test.sh ARGS), measured
#   scripts/coverage.sh report        combine every run since `start`, print the least-covered
#                                     files; exits 2 if the total is below fail_under
# Each Python process of a run that imports casekeeper measures itself from then on (pytest, its
# xdist workers, the `casekeeper` processes tests start): scripts/coverage_startup/sitecustomize.py.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=.ci/.cache/coverage
case "${1:-}" in
  start)
    scripts/bootstrap.sh
    rm -rf "$DATA" && mkdir -p "$DATA"
    ;;
  test)
    shift
    mkdir -p "$DATA"
    export COVERAGE_ON_CASEKEEPER_IMPORT="$(pwd)/pyproject.toml"
    export PYTHONPATH="$(pwd)/scripts/coverage_startup${PYTHONPATH:+:$PYTHONPATH}"
    exec bash scripts/test.sh "$@"
    ;;
  report)
    .venv/bin/python -m coverage combine -q
    echo "== branch coverage of src/ (files below 100 %; HTML: .venv/bin/python -m coverage html) =="
    .venv/bin/python -m coverage report
    ;;
  *)
    echo "usage: scripts/coverage.sh start | test [pytest args] | report" >&2
    exit 64
    ;;
esac
