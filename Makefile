# casekeeper developer commands. `make check` runs exactly what CI runs (on SQLite).
.PHONY: install demo serve test test-pg coverage lint fmt types proto proto-check migrations-check check bench clean

PG_URL ?= postgresql://postgres@127.0.0.1:5432/postgres

install:
	scripts/bootstrap.sh

demo:
	scripts/demo.sh

serve: install
	.venv/bin/casekeeper serve

test:
	scripts/test.sh

test-pg:
	CASEKEEPER_TEST_DATABASE_URL=$(PG_URL) scripts/test.sh

# What CI measures: the suite on SQLite and on PostgreSQL, branch coverage of src/ combined.
coverage:
	scripts/coverage.sh start
	scripts/coverage.sh test
	CASEKEEPER_TEST_DATABASE_URL=$(PG_URL) scripts/coverage.sh test
	scripts/coverage.sh report

lint: install
	.venv/bin/ruff check src tests scripts bench
	.venv/bin/ruff format --check src tests scripts bench
	.venv/bin/mypy

fmt: install
	.venv/bin/ruff format src tests scripts bench
	.venv/bin/ruff check --fix src tests scripts bench

types: install
	.venv/bin/mypy

proto: install
	.venv/bin/python scripts/gen_protos.py

proto-check: install
	.venv/bin/python scripts/gen_protos.py --check

check: lint proto-check test

bench: install
	.venv/bin/python bench/run_all.py

clean:
	rm -rf .venv .mypy_cache .ruff_cache .pytest_cache casekeeper.db*
