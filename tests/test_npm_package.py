"""The npm package (npm/) as a consumer gets it.

`npm pack` builds the tarball (its prepack copies gen/ts in); a fresh
directory installs it and @grpc/grpc-js (from the npm cache when `npm ci`
filled it, else from the registry) and runs tests/ts/consumer/consume.mjs
there, which imports everything by package name, decodes every golden vector
and calls a running `flyteres serve` on 127.0.0.1 over gRPC.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from flyteres.service import BackgroundServer, ServerConfig

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "npm"


def npm(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["npm", *args, "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(scope="module")
def tarball(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pack")
    packed = npm("pack", "--json", "--pack-destination", str(out), cwd=PACKAGE)
    assert packed.returncode == 0, packed.stdout + packed.stderr
    (info,) = json.loads(packed.stdout)
    return out / info["filename"]


def test_the_tarball_is_a_package_with_types_and_exports(tarball: Path) -> None:
    with tarfile.open(tarball) as tf:
        names = {n.removeprefix("package/") for n in tf.getnames()}
        manifest = json.loads(tf.extractfile("package/package.json").read())  # type: ignore[union-attr]
    assert "private" not in manifest
    assert manifest["name"] == "flyteres-idl"
    assert manifest["dependencies"] == {"@bufbuild/protobuf": "^2.13.0"}
    assert manifest["types"] == "./index.d.ts"
    for entry in manifest["exports"].values():
        if isinstance(entry, dict):
            assert entry["types"].removeprefix("./") in names, entry
            assert entry["default"].removeprefix("./") in names, entry
    assert {"index.js", "index.d.ts", "README.md", "LICENSE"} <= names
    # Only the package: no repository files beside it.
    assert not any(n.startswith(("tests/", "scripts/", "src/")) for n in names), names


@pytest.fixture(scope="module")
def server() -> Iterator[BackgroundServer]:
    with BackgroundServer("127.0.0.1:0", ServerConfig(log_calls=False)) as running:
        yield running


def grpc_js_version() -> str:
    lock = json.loads((ROOT / "package-lock.json").read_text())
    return str(lock["packages"]["node_modules/@grpc/grpc-js"]["version"])


def test_a_consumer_imports_it_by_name_decodes_the_vectors_and_calls_the_service(
    tarball: Path, server: BackgroundServer, tmp_path: Path
) -> None:
    consumer = tmp_path / "consumer"
    consumer.mkdir()
    (consumer / "package.json").write_text(json.dumps({"name": "consumer", "private": True, "type": "module"}))
    installed = npm("install", "--prefer-offline", str(tarball), f"@grpc/grpc-js@{grpc_js_version()}", cwd=consumer)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert (consumer / "node_modules" / "flyteres-idl" / "dist").is_dir()
    assert (consumer / "node_modules" / "@bufbuild" / "protobuf").is_dir(), "the dependency came with it"
    shutil.copy(ROOT / "tests" / "ts" / "consumer" / "consume.mjs", consumer / "consume.mjs")
    env = {**os.environ, "FLYTERES_VECTORS": str(ROOT / "tests" / "vectors"), "FLYTERES_ADDRESS": server.address}
    ran = subprocess.run(
        ["node", "--test", "consume.mjs"], cwd=consumer, env=env, capture_output=True, text=True, check=False
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "# fail 0" in ran.stdout
