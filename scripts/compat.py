"""Run the wire tests on the oldest and the newest protobuf/grpcio runtimes flyteres declares.

    python scripts/compat.py floor newest    # what `make compat` (part of `make test`) runs

Each name is a requirements file, requirements/compat-NAME.txt, installed into a
venv of its own, .venv-compat/NAME-<hash of that file>/, which is reused while
the file is unchanged (a changed file makes a new venv; older ones are removed).
In each venv, with the checkout's src/ and gen/python/ on the path (the
package is not installed, so nothing else is pulled in):

1. every generated module under gen/python/ imports: protobuf's runtime check
   accepts the gencode, and the gRPC stubs accept grpcio;
2. the wire tests pass: tests/test_idl_wire.py (bytes and proto3 JSON across
   flyteres, betterproto, flyteidl and flyteidl2) and the golden vectors
   (tests/test_service_vectors.py).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENVS = ROOT / ".venv-compat"
GEN_PYTHON = ROOT / "gen" / "python"
WIRE_TESTS = ("tests/test_idl_wire.py", "tests/test_service_vectors.py")

IMPORT_ALL = """
import importlib, sys
from google.protobuf import __version__ as protobuf
import grpc
for name in sys.argv[1:]:
    importlib.import_module(name)
print(f"{len(sys.argv) - 1} generated modules import on protobuf {protobuf}, grpcio {grpc.__version__}")
"""


def generated_modules() -> list[str]:
    """Every module under gen/python (packages by their name), sorted."""
    names = []
    for path in sorted(GEN_PYTHON.rglob("*.py")):
        parts = list(path.relative_to(GEN_PYTHON).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names.append(".".join(parts))
    return names


def venv_for(name: str) -> Path:
    """The venv of requirements/compat-NAME.txt, created and filled on first use."""
    requirements = ROOT / "requirements" / f"compat-{name}.txt"
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()[:12]
    venv = VENVS / f"{name}-{digest}"
    stamp = venv / ".installed"
    if stamp.exists():
        return venv
    for stale in VENVS.glob(f"{name}-*"):
        shutil.rmtree(stale)
    subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    subprocess.run(
        [venv / "bin" / "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", requirements],
        check=True,
    )
    stamp.touch()
    return venv


def run(name: str) -> int:
    started = time.monotonic()
    venv = venv_for(name)
    python = venv / "bin" / "python"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(GEN_PYTHON)]),
        # The runtime check must run: a variable that disables it would hide a refusal.
        "TEMPORARILY_DISABLE_PROTOBUF_VERSION_CHECK": "false",
    }
    print(f"== compat {name} ({venv.relative_to(ROOT)})", flush=True)
    imported = subprocess.run([python, "-c", IMPORT_ALL, *generated_modules()], env=env, cwd=ROOT, check=False)
    if imported.returncode != 0:
        return imported.returncode
    tested = subprocess.run(
        [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not slow", *WIRE_TESTS],
        env=env,
        cwd=ROOT,
        check=False,
    )
    print(f"== compat {name}: {time.monotonic() - started:.0f} s", flush=True)
    return tested.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="+", help="requirements/compat-NAME.txt to test with (floor, newest)")
    args = parser.parse_args()
    failed = [name for name in args.names if run(name) != 0]
    if failed:
        print(f"failed on: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
