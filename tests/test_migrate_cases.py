"""Golden before/after cases: `tests/migrate_cases/<case>/input.py.txt` and the exact output.

Each case directory holds `<target>.kubernetes.py.txt` for both targets, and
`<target>.strict.py.txt` only where the strict policy gives something else
(when it is absent, strict must give the kubernetes output). The `.txt`
suffix keeps formatters and linters away: these files are data, byte for
byte what the codemod reads and writes. `sites.json` pins every
site's line, kind, name, action and rules, per target and policy; where a case
has `blockers.json`, it pins what keeps the module on flytekit when it moves
whole to Flyte 2, and why.

Regenerate after an intended change with FLYTERES_UPDATE_GOLDENS=1, then read
the diff: the goldens are the specification.
"""

from __future__ import annotations

import json
import os
import pathlib

import pytest

from flyteres.migrate import MigrationResult, migrate_source

CASES_DIR = pathlib.Path(__file__).parent / "migrate_cases"
CASES = sorted(d.name for d in CASES_DIR.iterdir() if (d / "input.py.txt").exists())
COMBOS = [("flyte", "kubernetes"), ("flyte", "strict"), ("flytekit", "kubernetes"), ("flytekit", "strict")]
UPDATE = os.environ.get("FLYTERES_UPDATE_GOLDENS") == "1"


def _read(path: pathlib.Path) -> str:
    with path.open(encoding="utf-8", newline="") as fh:
        return fh.read()


def _write(path: pathlib.Path, text: str) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(text)


def _summary(result: MigrationResult) -> list[str]:
    out = []
    for site in result.sites:
        rules = ", ".join(
            sorted({f"{f.rule}{'!' if f.lossy else '*' if f.decided_by_policy else ''}" for f in site.findings})
        )
        decided = " (decided by policy)" if site.decided_by_policy else ""
        out.append(f"{site.line} {site.kind} {site.name}: {site.action}{decided} [{rules}]")
    return out


def _migrate(case: str, target: str, policy: str) -> MigrationResult:
    source = _read(CASES_DIR / case / "input.py.txt")
    # partial: every site as it renders on its own (the whole-module rule is tested in test_migrate_program.py).
    return migrate_source(source, path=f"{case}.py", target=target, policy=policy, partial=True)  # type: ignore[arg-type]


def _blockers(case: str) -> list[str]:
    """What keeps the case's module on flytekit when it moves whole (`--target flyte`), and why."""
    result = migrate_source(_read(CASES_DIR / case / "input.py.txt"), path=f"{case}.py", target="flyte")
    return [f"{b.line} {b.construct} [{b.rule}]: {b.reason}" for b in result.blockers]


def _update(case: str) -> None:
    directory = CASES_DIR / case
    sites: dict[str, list[str]] = {}
    outputs: dict[tuple[str, str], str] = {}
    for target, policy in COMBOS:
        result = _migrate(case, target, policy)
        outputs[(target, policy)] = result.code
        sites[f"{target}.{policy}"] = _summary(result)
    for (target, policy), code in outputs.items():
        path = directory / f"{target}.{policy}.py.txt"
        if policy == "strict" and code == outputs[(target, "kubernetes")]:
            path.unlink(missing_ok=True)
        else:
            _write(path, code)
    _write(directory / "sites.json", json.dumps(sites, indent=2) + "\n")
    if (directory / "blockers.json").exists():
        _write(directory / "blockers.json", json.dumps(_blockers(case), indent=2) + "\n")


@pytest.mark.parametrize(("target", "policy"), COMBOS, ids=[f"{t}-{p}" for t, p in COMBOS])
@pytest.mark.parametrize("case", CASES)
def test_golden_case(case: str, target: str, policy: str) -> None:
    if UPDATE and (target, policy) == COMBOS[0]:
        _update(case)
    directory = CASES_DIR / case
    result = _migrate(case, target, policy)
    expected = directory / f"{target}.{policy}.py.txt"
    if not expected.exists():
        expected = directory / f"{target}.kubernetes.py.txt"
    assert result.code == _read(expected)
    assert _summary(result) == json.loads(_read(directory / "sites.json"))[f"{target}.{policy}"]
    if target == "flyte" and policy == "kubernetes" and (directory / "blockers.json").exists():
        assert _blockers(case) == json.loads(_read(directory / "blockers.json"))
    # Running it again changes nothing.
    again = migrate_source(result.code, path=f"{case}.py", target=target, policy=policy)  # type: ignore[arg-type]
    assert again.code == result.code
    assert not again.rewritten
