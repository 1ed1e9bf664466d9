"""A user's script with the README's examples type-checks under `mypy --strict` (issue 13, types).

tests/typing/readme_examples.py is checked, never run, by the project's own
mypy in a subprocess, with the project's configuration (which says that
flytekit and flyteidl ship no type information, as a user's would).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tests" / "typing" / "readme_examples.py"


@pytest.mark.slow
def test_readme_examples_type_check_strictly() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--config-file", str(ROOT / "pyproject.toml"), str(SCRIPT)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_script_holds_every_readme_example() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Using it", 1)[1].split("```python", 1)[1].split("```", 1)[0]
    script = SCRIPT.read_text(encoding="utf-8")
    for line in block.strip().splitlines():
        code = line.split("  #", 1)[0].strip()
        call = code.split("=", 1)[-1].strip() if code.startswith(("spec =", "res, ext =")) else code
        if code.startswith(("import", "from")):
            assert code in script, code
        else:
            assert call.split("(", 1)[0] in script, code
