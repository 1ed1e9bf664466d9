"""Hostile platform and quota files (issue 17): bounded, refused with file:line, never a traceback.

Each case reproduces a report: on the code before the bounds, the alias bomb
expanded to a million quotas, deep nesting raised RecursionError, merge keys
were refused as an unknown resource and a long value came back whole in the
error.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from flyteres.backend.files import MAX_DEPTH, MAX_DOCUMENTS, MAX_FILE_BYTES, MAX_NODES, PlatformConfigError
from flyteres.backend.manifests import load_quotas
from flyteres.cli.check import main
from flyteres.platform import parse_cluster, parse_limitranges, parse_platform, parse_quotas

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

# The 492-byte report: lists whose items alias other lists, ten at each of six levels: 10**6 quotas.
ALIAS_BOMB = (
    "q: &q {kind: ResourceQuota, metadata: {name: q}, spec: {hard: {pods: '1'}}}\n"
    "a: &a {kind: List, items: [*q, *q, *q, *q, *q, *q, *q, *q, *q, *q]}\n"
    "b: &b {kind: List, items: [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]}\n"
    "c: &c {kind: List, items: [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]}\n"
    "d: &d {kind: List, items: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]}\n"
    "e: &e {kind: List, items: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]}\n"
    "kind: List\n"
    "items: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
)


def test_a_long_flat_list_is_refused_at_the_bound_not_after_it() -> None:
    started = time.perf_counter()
    with pytest.raises(PlatformConfigError, match=f"more than {MAX_NODES} values"):
        parse_quotas("[" + "1, " * 1_000_000 + "1]")
    assert time.perf_counter() - started < 10


def test_an_alias_bomb_is_refused_before_it_expands() -> None:
    started = time.perf_counter()
    with pytest.raises(PlatformConfigError) as info:
        parse_quotas(ALIAS_BOMB, "bomb.yaml")
    assert time.perf_counter() - started < 2
    assert info.value.line is not None
    assert f"expands to more than {MAX_NODES} values" in info.value.reason
    assert str(info.value).startswith(f"bomb.yaml:{info.value.line}: ")


def test_the_alias_bomb_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(ALIAS_BOMB)
    (tmp_path / "ok.py").write_text("x = 1\n")
    code = main([str(tmp_path / "ok.py"), "--platform", str(EXAMPLES / "admin.yaml"), "--quota", str(bomb)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(f"error: {bomb}:")
    assert err.count("\n") == 1


def test_an_alias_inside_its_own_anchor_is_refused() -> None:
    with pytest.raises(PlatformConfigError, match=r"the alias \*x is inside its own anchor") as info:
        parse_quotas("kind: List\nitems: &x\n  - kind: List\n    items: *x\n", "loop.yaml")
    assert info.value.line == 4


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("[" * 5000 + "]" * 5000, 1),  # JSON, one line
        ("kind: List\nitems:\n" + "".join(f"{'  ' * i}- \n" for i in range(1, 200)), MAX_DEPTH + 2),  # YAML blocks
    ],
)
def test_deep_nesting_is_refused_not_a_recursion_error(text: str, line: int) -> None:
    for parse in (parse_quotas, parse_platform, parse_limitranges, parse_cluster):
        with pytest.raises(PlatformConfigError, match=f"nested more than {MAX_DEPTH} levels deep") as info:
            parse(text, "deep.yaml")
        assert info.value.line is not None
        assert info.value.line <= line


def test_too_many_documents() -> None:
    doc = "kind: ResourceQuota\nmetadata: {name: q}\nspec: {hard: {pods: '1'}}\n"
    assert len(parse_quotas("---\n".join([doc] * MAX_DOCUMENTS), "q.yaml")) == MAX_DOCUMENTS
    with pytest.raises(PlatformConfigError, match=f"more than {MAX_DOCUMENTS} YAML documents") as info:
        parse_quotas("---\n".join([doc] * (MAX_DOCUMENTS + 1)), "q.yaml")
    assert info.value.line == 4 * MAX_DOCUMENTS  # the --- that starts the one too many


def test_files_above_the_size_bound_are_not_read(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * (MAX_FILE_BYTES + 1))
    with pytest.raises(PlatformConfigError, match=f"larger than {MAX_FILE_BYTES} bytes") as info:
        load_quotas(big)
    assert info.value.line is None
    with pytest.raises(PlatformConfigError, match="larger than"):
        parse_quotas("#" * (MAX_FILE_BYTES + 1))


def test_merge_keys_are_accepted_and_explicit_keys_win() -> None:
    platform = parse_platform(
        "common: &common {cpu: 500m, memory: 1Gi}\n"
        "task_resources:\n"
        "  defaults:\n"
        "    <<: *common\n"
        "  limits:\n"
        "    <<: [*common, {gpu: 2, cpu: 8}]\n"
        "    memory: 8Gi\n",
        "admin.yaml",
    )
    assert {str(k): str(v) for k, v in platform.defaults.items()} == {"cpu": "500m", "memory": "1Gi"}
    # Explicit keys win over merged ones; an earlier merged mapping over a later one.
    assert {str(k): str(v) for k, v in platform.limits.items()} == {"cpu": "500m", "memory": "8Gi", "gpu": "2"}
    assert platform.lines["limits.memory"] == 7
    assert platform.lines["limits.cpu"] == 1  # where the merged value is written
    (quota,) = parse_quotas(
        "base: &base {requests.cpu: '8'}\nkind: ResourceQuota\nmetadata: {name: q}\n"
        "spec:\n  hard:\n    <<: *base\n    limits.memory: 16Gi\n"
    )
    assert set(quota.hard) == {"requests.cpu", "limits.memory"}


def test_a_merge_of_a_scalar_is_refused_and_merge_chains_are_bounded() -> None:
    with pytest.raises(PlatformConfigError, match="a merge key takes a mapping"):
        parse_platform("task_resources:\n  defaults:\n    <<: 5\n")
    chain = "a0: &a0 {cpu: 1}\n" + "".join(f"a{i}: &a{i} {{<<: *a{i - 1}}}\n" for i in range(1, 100))
    with pytest.raises(PlatformConfigError, match="merge keys nested more than"):
        parse_platform(chain + "task_resources:\n  defaults: *a99\n")


@pytest.mark.parametrize(
    "text",
    [
        "task_resources:\n  limits:\n    memory: " + "9" * 1_000_000 + "XB\n",
        "task_resources:\n  limits:\n    ? " + "m" * 1_000_000 + "\n    : 1Gi\n",
        "task_resources:\n  limits:\n    memory: [" + "1, " * 10_000 + "1]\n",
        "task_resources: {}\n---\n" + "x" * 1_000_000 + "\n",
        "task_resources:\n  limits: *" + "a" * 1_000_000 + "\n",
    ],
)
def test_echoed_values_are_capped(text: str) -> None:
    with pytest.raises(PlatformConfigError) as info:
        parse_platform(text, "admin.yaml")
    assert len(str(info.value)) < 2000, str(info.value)[:300]


def test_names_and_keys_of_quotas_are_capped_in_reports() -> None:
    from flyteres import ResourceSpec, effective  # noqa: PLC0415 - only this test needs the replay

    (quota,) = parse_quotas(
        f"kind: ResourceQuota\nmetadata:\n  name: {'n' * 100_000}\nspec:\n  hard:\n"
        f"    ? {'k' * 100_000}\n    : '1'\n    pods: '0'\n"
    )
    assert all(len(str(n)) < 2000 for n in quota.notes)
    e = effective(ResourceSpec(requests={"cpu": "1"}), quotas=quota)
    assert e.errors
    assert all(len(f.reason) < 2000 for f in e.findings)
