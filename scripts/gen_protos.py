"""Generate casekeeper's Python gRPC code from the .proto sources.

Usage (from any directory):

    .venv/bin/python scripts/gen_protos.py          # regenerate src/casekeeper/proto/
    .venv/bin/python scripts/gen_protos.py --check  # exit 1 if the committed output is stale

Runs grpc_tools.protoc with ``-I proto`` over every ``.proto`` under ``proto/``
(python_out, grpc_python_out, and mypy-protobuf's mypy_out / mypy_grpc_out for
``.pyi`` stubs). Descriptor file names therefore stay e.g.
``com/coralogixapis/cases/v1/case.proto`` (what gRPC reflection serves), while
the generated modules live under the ``casekeeper.proto`` package: absolute
imports such as ``from com.coralogixapis.cases.v1 import case_pb2`` are
rewritten to ``from casekeeper.proto.com.coralogixapis.cases.v1 import case_pb2``.
Every generated folder gets an empty ``__init__.py``. The output is
deterministic, so ``--check`` can compare it byte for byte.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTO_DIR = ROOT / "proto"
OUT_DIR = ROOT / "src" / "casekeeper" / "proto"
TARGET_PACKAGE = "casekeeper.proto"
REGEN_HINT = ".venv/bin/python scripts/gen_protos.py"


def _proto_files() -> list[str]:
    files = sorted(p.relative_to(PROTO_DIR).as_posix() for p in PROTO_DIR.rglob("*.proto"))
    if not files:
        sys.exit(f"gen_protos: no .proto files found under {PROTO_DIR}")
    return files


def _proto_packages(files: list[str]) -> list[str]:
    """Dotted Python package of every folder holding a .proto (e.g. casekeeper.v1)."""
    return sorted({str(Path(f).parent).replace(os.sep, ".") for f in files})


def _plugin(name: str) -> str:
    candidate = Path(sys.executable).parent / name
    if candidate.is_file():
        return str(candidate)
    found = shutil.which(name)
    if found is None:
        sys.exit(f"gen_protos: {name} not found (install the dev extras: mypy-protobuf)")
    return found


def _well_known_include() -> str:
    """grpc_tools' bundled google/protobuf/*.proto (timestamp, duration, ...)."""
    spec = importlib.util.find_spec("grpc_tools")
    if spec is None or spec.origin is None:
        sys.exit("gen_protos: grpcio-tools is not installed (install the dev extras)")
    return str(Path(spec.origin).resolve().parent / "_proto")


def _run_protoc(files: list[str], raw_out: Path) -> None:
    cmd = [
        sys.executable,
        "-m",
        "grpc_tools.protoc",
        "-I.",
        f"-I{_well_known_include()}",
        f"--plugin=protoc-gen-mypy={_plugin('protoc-gen-mypy')}",
        f"--plugin=protoc-gen-mypy_grpc={_plugin('protoc-gen-mypy_grpc')}",
        f"--python_out={raw_out}",
        f"--grpc_python_out={raw_out}",
        f"--mypy_out=quiet:{raw_out}",
        f"--mypy_grpc_out=quiet:{raw_out}",
        *files,
    ]
    # cwd=proto/ so that `-I.` is exactly the `-I proto` root.
    result = subprocess.run(cmd, cwd=PROTO_DIR, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        sys.exit(f"gen_protos: protoc failed with exit code {result.returncode}")


def _rewrite(text: str, packages: list[str], rel: str) -> str:
    alternation = "|".join(re.escape(p) for p in packages)
    # `from com.coralogixapis.cases.v1 import case_pb2 as ...` (.py, _grpc.py, .pyi)
    text = re.sub(
        rf"^(\s*)from ({alternation}) import ",
        rf"\1from {TARGET_PACKAGE}.\2 import ",
        text,
        flags=re.MULTILINE,
    )
    # Module name given to the message classes (their __module__; used by pickle).
    text = re.sub(
        rf"(BuildTopDescriptorsAndMessages\(DESCRIPTOR, ')(({alternation})\.\w+_pb2)(')",
        rf"\1{TARGET_PACKAGE}.\2\4",
        text,
    )
    leftover = re.search(rf"^\s*(import|from) ({alternation})[.\s]", text, flags=re.MULTILINE)
    if leftover:
        sys.exit(f"gen_protos: unhandled import form in {rel}: {leftover.group(0).strip()!r}")
    return text


def generate(dest: Path) -> None:
    """Generate the complete, post-processed output tree into ``dest`` (must not exist)."""
    files = _proto_files()
    packages = _proto_packages(files)
    with tempfile.TemporaryDirectory(prefix="gen_protos_raw_") as tmp:
        raw_out = Path(tmp)
        _run_protoc(files, raw_out)
        dest.mkdir(parents=True)
        (dest / "__init__.py").write_bytes(b"")
        for src in sorted(raw_out.rglob("*")):
            if not src.is_file():
                continue
            rel = src.relative_to(raw_out)
            if src.suffix not in (".py", ".pyi"):
                sys.exit(f"gen_protos: unexpected protoc output {rel}")
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            text = src.read_text(encoding="utf-8")
            target.write_bytes(_rewrite(text, packages, rel.as_posix()).encode("utf-8"))
        for folder in sorted(p for p in dest.rglob("*") if p.is_dir()):
            init = folder / "__init__.py"
            if not init.exists():
                init.write_bytes(b"")


def _tree(root: Path) -> dict[str, bytes]:
    if not root.is_dir():
        return {}
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


def check() -> int:
    with tempfile.TemporaryDirectory(prefix="gen_protos_check_") as tmp:
        fresh_root = Path(tmp) / "out"
        generate(fresh_root)
        fresh = _tree(fresh_root)
    current = _tree(OUT_DIR)
    missing = sorted(set(fresh) - set(current))
    extra = sorted(set(current) - set(fresh))
    changed = sorted(k for k in set(fresh) & set(current) if fresh[k] != current[k])
    if not (missing or extra or changed):
        print(f"gen_protos: {OUT_DIR.relative_to(ROOT)} is up to date ({len(fresh)} files)")
        return 0
    out = OUT_DIR.relative_to(ROOT)
    lines = [f"gen_protos: generated code in {out}/ is out of date with proto/."]
    lines += [f"  missing:  {out}/{k}" for k in missing]
    lines += [f"  stale:    {out}/{k}" for k in changed]
    lines += [f"  unwanted: {out}/{k}" for k in extra]
    lines.append(f"Run `{REGEN_HINT}` and commit the result.")
    print("\n".join(lines), file=sys.stderr)
    return 1


def write() -> int:
    with tempfile.TemporaryDirectory(prefix="gen_protos_out_") as tmp:
        fresh_root = Path(tmp) / "out"
        generate(fresh_root)
        fresh = _tree(fresh_root)
    current = _tree(OUT_DIR)
    written = 0
    for rel, data in sorted(fresh.items()):
        if current.get(rel) != data:
            target = OUT_DIR / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            written += 1
    removed = sorted(set(current) - set(fresh))
    for rel in removed:
        (OUT_DIR / rel).unlink()
    # Drop folders left empty (ignoring bytecode caches) by removed protos.
    for folder in sorted((p for p in OUT_DIR.rglob("*") if p.is_dir()), reverse=True):
        if folder.name == "__pycache__" or not folder.exists():
            continue
        if all(child.name == "__pycache__" for child in folder.iterdir()):
            shutil.rmtree(folder)
    print(
        f"gen_protos: {len(fresh)} files in {OUT_DIR.relative_to(ROOT)}/ "
        f"({written} written, {len(removed)} removed)"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--check",
        action="store_true",
        help="regenerate into a temporary directory and exit 1 if the committed output differs",
    )
    args = parser.parse_args(argv)
    return check() if args.check else write()


if __name__ == "__main__":
    sys.exit(main())
