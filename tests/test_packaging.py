"""The wheel as a new user gets it: a bare install is the core only, and works.

The wheel is built from the checkout and installed without extras into a
clean venv (its two dependencies come from the package index, at the
versions in requirements/constraints.txt). There the library imports,
converts plain dicts to Kubernetes and to the flyteres IDL, and every feature
that needs an extra says in one line which extra to install. The wheel's
metadata and the sdist are checked too: the Python range, the project URLs
and the .proto files.
"""

from __future__ import annotations

import email.parser
import json
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent

# Run inside the bare venv: each case prints one JSON line.
SCRIPT = r"""
import json, sys, importlib.metadata as md

import flyteres

spec = flyteres.from_flytekit(requests={"cpu": "1", "mem": "1Gi"}, limits={"cpu": "2", "mem": "1Gi"})
res, ext = flyteres.to_idl(spec, "flyteres")
print(json.dumps({
    "k8s": flyteres.to_k8s(spec),
    "idl": res.SerializeToString().hex(),
    "roundtrip": flyteres.from_idl(res.SerializeToString(), None) == spec,
    "canonical": flyteres.ResourceSpec.from_dict(spec.to_dict()) == spec,
    "distributions": sorted(d.metadata["Name"].lower() for d in md.distributions()),
}))


def hint(call):
    try:
        call()
    except ModuleNotFoundError as exc:
        return str(exc)
    return "no error"


def migrate():
    import flyteres.migrate
    return flyteres.migrate.migrate_source


def service():
    from flyteres.service import Client
    return Client


def check():
    # Reading source needs only the standard library; discovery matches a .gitignore with pathspec.
    import tempfile, pathlib
    from flyteres.source.analysis import find_declarations
    from flyteres.source.files import discover
    assert find_declarations("from flytekit import task\n@task\ndef t(): ...\n") == []
    with tempfile.TemporaryDirectory() as tree:
        (pathlib.Path(tree) / ".gitignore").write_text("build/\n")
        discover([tree])


def betterproto():
    import flyteres_betterproto


print(json.dumps({
    "idl": hint(lambda: flyteres.to_idl(spec, "flyteidl2")),
    "flyteidl": hint(lambda: flyteres.to_idl(spec, "flyteidl")),
    "flyte": hint(lambda: flyteres.to_flyte(spec)),
    "flytekit": hint(lambda: flyteres.to_flytekit(spec)),
    "service": hint(service),
    "migrate": hint(migrate),
    "check": hint(check),
    "betterproto": hint(betterproto),
}))
"""


def run(*args: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    built = run(sys.executable, "-m", "build", "--wheel", "--sdist", "--no-isolation", "--outdir", out)
    assert built.returncode == 0, built.stdout + built.stderr
    return out


@pytest.fixture(scope="module")
def bare(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv with the wheel installed and no extra."""
    venv = tmp_path_factory.mktemp("bare") / "venv"
    assert run(sys.executable, "-m", "venv", venv).returncode == 0
    (wheel,) = dist.glob("flyteres-*.whl")
    constraints = ROOT / "requirements" / "constraints.txt"
    installed = run(
        venv / "bin" / "python", "-m", "pip", "install", "-q", "--disable-pip-version-check", "-c", constraints, wheel
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return venv


def test_bare_install_is_the_core_and_converts_plain_dicts(bare: Path) -> None:
    result = run(bare / "bin" / "python", "-c", SCRIPT, cwd=bare)
    assert result.returncode == 0, result.stderr
    first, hints = (json.loads(line) for line in result.stdout.splitlines())
    # Exactly the library and its two dependencies (pip, and setuptools on older Pythons, come with the venv).
    assert set(first["distributions"]) - {"pip", "setuptools"} == {"flyteres", "protobuf", "pyyaml"}
    assert first["k8s"]["resources"] == {
        "requests": {"cpu": "1", "memory": "1Gi"},
        "limits": {"cpu": "2", "memory": "1Gi"},
    }
    assert first["idl"]
    assert first["roundtrip"]
    assert first["canonical"]

    expected = {
        "idl": "idl",
        "flyteidl": "idl",
        "flyte": "flyte",
        "flytekit": "flytekit",
        "service": "service",
        "migrate": "migrate",
        "check": "migrate",
        "betterproto": "betterproto",
    }
    for case, extra in expected.items():
        message = hints[case]
        assert message.endswith(f"pip install 'flyteres[{extra}]'"), (case, message)
        assert "\n" not in message, (case, message)


@pytest.mark.parametrize("command", [["bin/flyteres", "--version"], ["bin/python", "-m", "flyteres", "--help"]])
def test_the_command_without_the_cli_extra_says_how_to_get_it(bare: Path, command: list[str]) -> None:
    result = run(bare / command[0], *command[1:], cwd=bare)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == "flyteres: the flyteres command needs the cli extra: pip install 'flyteres[cli]'\n"


def test_wheel_metadata(dist: Path) -> None:
    (wheel,) = dist.glob("flyteres-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        (name,) = [n for n in zf.namelist() if n.endswith(".dist-info/METADATA")]
        metadata = email.parser.Parser().parsestr(zf.read(name).decode())
        names = set(zf.namelist())
    # No upper bound below the newest CPython the dependencies support.
    assert metadata["Requires-Python"] == ">=3.10"
    assert "Programming Language :: Python :: 3.14" in metadata.get_all("Classifier", [])
    urls = dict(u.split(", ", 1) for u in metadata.get_all("Project-URL", []))
    assert {"Homepage", "Repository", "Issues", "Changelog"} <= urls.keys()
    core = [r for r in metadata.get_all("Requires-Dist", []) if "extra ==" not in r]
    assert sorted(core) == ["protobuf<8,>=6.30.0", "pyyaml>=6"]
    assert set(metadata.get_all("Provides-Extra", [])) >= {
        "cli",
        "service",
        "migrate",
        "betterproto",
        "flytekit",
        "flyte",
        "idl",
        "all",
    }
    # The IDL sources, for users who compile against them.
    protos = {str(p.relative_to(ROOT / "proto")) for p in (ROOT / "proto").rglob("*.proto")}
    assert protos
    assert {f"flyteres/proto/{p}" for p in protos} <= names


def test_sdist_holds_the_protos_and_the_build_inputs(dist: Path) -> None:
    (sdist,) = dist.glob("flyteres-*.tar.gz")
    with tarfile.open(sdist) as tf:
        names = {n.split("/", 1)[1] for n in tf.getnames() if "/" in n}
    protos = {str(p.relative_to(ROOT)) for p in (ROOT / "proto").rglob("*.proto")}
    assert protos <= names
    assert {"buf.yaml", "pyproject.toml", "README.md", "LICENSE", "CHANGELOG.md", ".pre-commit-hooks.yaml"} <= names
