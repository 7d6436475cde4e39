"""Running the schemathesis CLI against the session's server and judging its output, for every
schemathesis test (one per group of routes): the command line, the log beside the test's
temporary files, and the three verdicts (the operations chosen, no server error, a clean exit)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

RUN_TIMEOUT = 1500
_SUMMARY = re.compile(r"^(_{3,} .* _{3,}|- ST\d+|\s+curl |=+ .* =+$)")


def run_schemathesis(
    base_url: str, tmp_path: Path, config: str, args: list[str], *, operations: int
) -> None:
    """``schemathesis --config-file <config> run <base_url>/openapi.json <args>``, which must
    select ``operations`` operations, meet no server error and find no problem."""
    script = Path(sys.executable).with_name("schemathesis")
    assert script.exists(), f"schemathesis is not installed beside {sys.executable}"
    config_file = tmp_path / "schemathesis.toml"
    config_file.write_text(config)
    command = [
        str(script), "--config-file", str(config_file), "run", f"{base_url}/openapi.json",
        *args, "--request-timeout", "30", "--no-color",
    ]  # fmt: skip
    result = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False
    )
    output = result.stdout + result.stderr
    (tmp_path / "schemathesis.log").write_text(output)
    summary = "\n".join(line for line in output.splitlines() if _SUMMARY.match(line))
    assert f"Operations:       {operations} selected / " in output, output[-3000:]
    assert "Server error" not in output, summary[-12000:]
    assert result.returncode == 0, (
        f"schemathesis found problems (log: {tmp_path}/schemathesis.log):\n{summary[-12000:]}"
    )
