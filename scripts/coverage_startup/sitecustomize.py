"""Start coverage in a Python process of the test suite when it first imports casekeeper.

scripts/coverage.sh puts this directory on PYTHONPATH and names the coverage settings
(pyproject.toml) in COVERAGE_ON_CASEKEEPER_IMPORT (not CASEKEEPER_…: tests drop those from the
environments they give servers); every process of the run inherits both: pytest, its xdist
workers, the ``casekeeper`` processes tests start. Starting at the first import of casekeeper,
not at interpreter start as coverage's own COVERAGE_PROCESS_START does, leaves unmeasured the
processes that never run casekeeper's code, above all the schemathesis client (twice as slow
when traced).
"""

from __future__ import annotations

import os
import sys
from importlib.machinery import ModuleSpec
from typing import Any

SETTINGS = os.environ.get("COVERAGE_ON_CASEKEEPER_IMPORT", "")


class _StartOnImport:
    @classmethod
    def find_spec(cls, name: str, *_path_and_target: Any) -> ModuleSpec | None:
        if name == "casekeeper" or name.startswith("casekeeper."):
            sys.meta_path.remove(cls)
            _start()
        return None  # the import itself goes on as usual


def _start() -> None:
    import coverage

    cov = coverage.Coverage(config_file=SETTINGS, auto_data=True)  # saves at exit
    # The settings' paths are relative to the repository; a process may run elsewhere.
    root = os.path.dirname(os.path.abspath(SETTINGS))
    data_file = cov.get_option("run:data_file")
    assert isinstance(data_file, str)
    cov.set_option("run:data_file", os.path.join(root, data_file))
    dirs = cov.get_option("run:source_dirs")
    assert isinstance(dirs, list)
    cov.set_option("run:source_dirs", [os.path.join(root, d) for d in dirs])
    cov.start()


if SETTINGS:
    sys.meta_path.insert(0, _StartOnImport)
