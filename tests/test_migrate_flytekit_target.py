"""`--target flytekit` (issue 15): wire-identical whatever the policy, constants consistent across the run."""

from __future__ import annotations

import pathlib
import textwrap

import pytest

from flyteres.migrate import Options, migrate_source, run


@pytest.mark.parametrize("policy", ["kubernetes", "strict"])
def test_a_limit_only_site_stays_as_written_under_every_policy(policy: str) -> None:
    source = 'from flytekit import Resources, task\n\n\n@task(limits=Resources(mem="1Gi"))\ndef f() -> None: ...\n'
    result = migrate_source(source, target="flytekit", policy=policy)  # type: ignore[arg-type]
    assert result.code == source
    (site,) = result.sites
    assert site.action == "untouched"
    assert {f.rule for f in site.findings if f.lossy} == {"limit-without-request"}


def test_a_constant_with_storage_is_reported_not_inlined_around() -> None:
    source = textwrap.dedent(
        """\
        from flytekit import Resources, task

        RES = Resources(cpu="1", storage="1Gi")


        @task(requests=RES, limits=Resources(cpu="2"))
        def f() -> None: ...
        """
    )
    result = migrate_source(source, target="flytekit")
    assert result.code == source
    (site,) = result.sites
    assert site.action == "untouched"
    assert {f.rule for f in site.findings if f.lossy} == {"storage-constant"}


CONSTS = 'from flytekit import Resources\n\nRES = Resources(cpu="1")\n'
USER = textwrap.dedent(
    """\
    from flytekit import task

    from .consts import RES


    @task(requests=RES, limits=RES)
    def g() -> None: ...
    """
)
OWNER = textwrap.dedent(
    """\
    from flytekit import Resources, task

    RES = Resources(cpu="1")


    @task(requests=RES, limits=RES)
    def f() -> None: ...
    """
)


def test_a_constant_another_module_imports_is_rewritten_nowhere(tmp_path: pathlib.Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "consts.py").write_text(OWNER)
    alone = run([package / "consts.py"], Options(target="flytekit", mode="diff"))  # type: ignore[arg-type]
    # On its own, the definition changes (every use in the module agrees).
    assert 'RES = Resources(cpu=("1", "1"))' in (alone.files[0].diff or "")
    (package / "user.py").write_text(USER)
    report = run([package], Options(target="flytekit", mode="write"))  # type: ignore[arg-type]
    text = (package / "consts.py").read_text()
    # Imported by user.py: RES stays, and f gets the values where it uses them.
    assert 'RES = Resources(cpu="1")\n' in text
    assert '@task(resources=Resources(cpu=("1", "1")))' in text
    assert report.requires() == {"flytekit": ">=1.15.3"}
    assert report.to_dict()["requires"] == {"flytekit": ">=1.15.3"}
