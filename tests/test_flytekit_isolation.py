"""A test does not see the flytekit tasks an earlier test declared (the autouse fixture in tests/conftest.py).

flytekit keeps every task it constructs in one process-wide list, and serializing a `@dynamic`
asks the Docker daemon about the ImageSpec of every task in that list. Without the fixture, a
test serializing a `@dynamic` after any test that imported a module with an ImageSpec image
contacted Docker, and docker-py's unclosed socket failed whichever test the garbage collector
ran in. The two tests run in file order: the first declares such a task, the second checks that
it is gone and that a `@dynamic` serializes without a Docker check.
"""

from __future__ import annotations

import gc
import itertools
import pathlib
import textwrap
from collections import OrderedDict

import pytest
from flytekit import ImageSpec
from flytekit.core.context_manager import FlyteEntities
from flytekit.tools.translator import get_serializable

from tests.modules import import_file

from .test_migrate_oracle import _SETTINGS

_counter = itertools.count()


def _module(tmp_path: pathlib.Path, stem: str, source: str) -> object:
    path = tmp_path / f"{stem}.py"
    path.write_text(textwrap.dedent(source))
    return import_file(path, f"{stem}_{next(_counter)}")


def _image_spec_tasks() -> list[object]:
    return [e for e in FlyteEntities.entities if isinstance(getattr(e, "container_image", None), ImageSpec)]


def test_flytekit_registers_a_task_with_an_image_spec_for_the_whole_process(tmp_path: pathlib.Path) -> None:
    module = _module(
        tmp_path,
        "isolation_images",
        """\
        from flytekit import ImageSpec, task

        image = ImageSpec(name="isolation", registry="localhost:5000", packages=["pandas"])


        @task(container_image=image)
        def load(n: int) -> int:
            return n
        """,
    )
    assert module.load in FlyteEntities.entities  # type: ignore[attr-defined]
    assert _image_spec_tasks() == [module.load]  # type: ignore[attr-defined]


def test_a_later_test_serializes_a_dynamic_without_asking_docker_about_it(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _image_spec_tasks() == []
    module = _module(
        tmp_path,
        "isolation_dynamic",
        """\
        from flytekit import Resources, dynamic, task


        @task
        def leaf(n: int) -> int:
            return n


        @dynamic(limits=Resources(mem="1Gi"))
        def fan_out(n: int) -> int:
            return leaf(n=n)
        """,
    )
    template = get_serializable(OrderedDict(), _SETTINGS, module.fan_out).template  # type: ignore[attr-defined]
    assert template.container.resources.limits
    gc.collect()  # a socket docker-py left open would warn here, inside this test
    out = capsys.readouterr().out
    assert "image" not in out.lower(), out
