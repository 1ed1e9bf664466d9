"""gen/ is reproducible, guarded against hand edits, and ships in the wheel;
buf guards proto/ against wire- and JSON-breaking changes."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

from tests.modules import import_file

# Regenerates code, runs buf or node: part of make test, not of make check's fast loop.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def load_gen_script() -> ModuleType:
    return import_file(ROOT / "scripts" / "gen.py", "flyteres_gen_script")


def run(*args: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, check=False)


def test_generating_twice_gives_identical_trees(tmp_path: Path) -> None:
    gen = load_gen_script()
    gen.generate(tmp_path / "a")
    gen.generate(tmp_path / "b")
    assert gen.tree_files(tmp_path / "a"), "generation produced nothing"
    assert gen.diff_trees(tmp_path / "a", tmp_path / "b", "gen") == []


def test_committed_gen_is_current() -> None:
    result = run(sys.executable, "scripts/gen.py", "--check")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        ("modify", "differs from a fresh generation: gen/python/flyteres_pb/v1/resources_pb2.py"),
        ("add", "not produced by proto/ (stale or hand-added): gen/python/flyteres_pb/v1/extra_pb2.py"),
        ("remove", "missing: gen/python/flyteres_pb/v1/resources_pb2.pyi"),
    ],
)
def test_hand_edited_gen_fails_the_check_and_says_to_run_make_gen(tmp_path: Path, edit: str, expected: str) -> None:
    copy = tmp_path / "gen"
    shutil.copytree(ROOT / "gen", copy, ignore=shutil.ignore_patterns("__pycache__"))
    target = copy / "python" / "flyteres_pb" / "v1"
    if edit == "modify":
        path = target / "resources_pb2.py"
        path.write_text(path.read_text() + "\nHAND_EDIT = True\n")
    elif edit == "add":
        (target / "extra_pb2.py").write_text("")
    else:
        (target / "resources_pb2.pyi").unlink()
    result = run(sys.executable, "scripts/gen.py", "--check", "--gen-dir", copy)
    assert result.returncode == 1
    assert expected in result.stdout
    assert "run `make gen`" in result.stdout


def test_generated_imports_point_at_the_shipped_package() -> None:
    for path in (ROOT / "gen" / "python").rglob("*.py*"):
        text = path.read_text()
        # protoc's own path would shadow the hand-written package.
        assert not re.search(r"^\s*(from|import) flyteres\.v\d+\b", text, re.M), path
        assert not re.search(r"'flyteres\.v\d+\.", text), path


def _renumber_size_limit(proto_dir: Path) -> None:
    path = proto_dir / "flyteres" / "v1" / "resources.proto"
    text = path.read_text()
    assert "string size_limit = 3;" in text
    path.write_text(text.replace("string size_limit = 3;", "string size_limit = 4;"))


def test_buf_lint_passes() -> None:
    result = run(BIN / "buf", "lint")
    assert result.returncode == 0, result.stdout + result.stderr


def test_buf_breaking_rejects_a_renumbered_field(tmp_path: Path) -> None:
    changed = tmp_path / "changed"
    shutil.copytree(ROOT / "proto", changed / "proto")
    shutil.copy(ROOT / "buf.yaml", changed / "buf.yaml")
    # Unchanged copy: no breaking change.
    same = run(BIN / "buf", "breaking", changed, "--against", ROOT)
    assert same.returncode == 0, same.stdout + same.stderr
    _renumber_size_limit(changed / "proto")
    broken = run(BIN / "buf", "breaking", changed, "--against", ROOT)
    assert broken.returncode != 0
    assert "size_limit" in broken.stdout + broken.stderr


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    built = run(sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", dist)
    assert built.returncode == 0, built.stdout + built.stderr
    (found,) = dist.glob("flyteres-*.whl")
    return found


def generated_modules(wheel: Path) -> list[str]:
    names = zipfile.ZipFile(wheel).namelist()
    return sorted(
        n.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
        for n in names
        if n.endswith(".py") and n.split("/")[0] in {"flyteres_pb", "flyteres_betterproto"}
    )


@pytest.mark.slow
def test_wheel_ships_every_source_generated_and_data_file(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        str(p.relative_to(base))
        for base in (ROOT / "src", ROOT / "gen" / "python")
        for p in base.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert expected - names == set(), "files missing from the wheel"
    modules = generated_modules(wheel)
    assert "flyteres_pb.v1.resources_pb2" in modules
    assert "flyteres_pb.v1.resources_pb2_grpc" in modules
    assert "flyteres_betterproto.v1" in modules


def _interpreters() -> list[str]:
    """This Python, plus the oldest and newest supported ones when the machine has them."""
    found = [sys.executable]
    pyenv = Path(os.environ.get("PYENV_ROOT", "~/.pyenv")).expanduser() / "versions"
    for version in ("3.10", "3.13"):
        candidates = [shutil.which(f"python{version}"), *sorted(str(p) for p in pyenv.glob(f"{version}.*/bin/python"))]
        for path in candidates:
            if path and run(path, "--version").returncode == 0:
                found.append(path)
                break
    return found


@pytest.mark.slow
@pytest.mark.parametrize("python", _interpreters())
def test_wheel_imports_every_generated_module_in_a_clean_venv(wheel: Path, python: str, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    created = run(python, "-m", "venv", venv)
    assert created.returncode == 0, created.stderr
    py = venv / "bin" / "python"
    # The recorded versions are for the Python the tests run on; others resolve their own.
    pins = ["-c", str(ROOT / "requirements" / "constraints.txt")] if python == sys.executable else []
    # The extras that the generated modules and the command need (the bare core is tests/test_packaging.py's).
    extras = f"{wheel}[cli,service,betterproto]"
    installed = run(py, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *pins, extras)
    assert installed.returncode == 0, installed.stdout + installed.stderr

    # Import from outside the checkout so nothing but the installed wheel is on the path.
    script = "\n".join(
        ["import importlib, sys", "for m in sys.argv[1:]:", "    importlib.import_module(m)", "print('ok')"]
    )
    imported = run(py, "-c", script, *generated_modules(wheel), cwd=tmp_path)
    assert imported.returncode == 0, imported.stdout + imported.stderr
    assert imported.stdout.strip() == "ok"
    where = run(py, "-c", "import flyteres_pb, flyteres; print(flyteres_pb.__file__, flyteres.__file__)", cwd=tmp_path)
    assert str(venv) in where.stdout
    assert str(ROOT) not in where.stdout
    # The installed command works, catalog data included.
    converted = subprocess.run(
        [venv / "bin" / "flyteres", "convert", "--to", "k8s"],
        input='{"requests": {"gpu": "1"}, "accelerator": {"device": "tpu-v5p-slice", "device_class": "GOOGLE_TPU"}}',
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert converted.returncode == 0, converted.stderr
    assert '"google.com/tpu": "1"' in converted.stdout
