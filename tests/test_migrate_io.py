"""FlyteFile, FlyteDirectory and the working directory in Flyte 2's forms (`flyteres.migrate.io_types`).

The oracle: each migrated program is imported and checked with the SDKs
themselves. Every task's interface serializes with flyte's own serializer
(`get_proto_task`) to the literal types flytekit's `get_serializable` gives the
original (blob format and dimensionality, inside lists, maps and unions too),
and the programs run (flytekit locally, flyte in `mode="local"`) to the same
values.
"""

from __future__ import annotations

import itertools
import pathlib
import textwrap
from collections import OrderedDict
from typing import Any

from flyte._internal.runtime import task_serde
from flyte.models import SerializationContext
from flytekit.tools.translator import get_serializable
from google.protobuf.json_format import MessageToDict

from flyteres.migrate import migrate_source
from tests import test_migrate_oracle as oracle
from tests.test_migrate_program import programs

_counter = itertools.count()

PROGRAM = """\
    import os
    import typing
    from pathlib import Path

    from flytekit import Resources, current_context, task, workflow
    from flytekit.types.directory import FlyteDirectory
    from flytekit.types.file import FlyteFile


    @task(requests=Resources(cpu="1", mem="1Gi"))
    def write_file(content: str) -> FlyteFile:
        path = os.path.join(current_context().working_directory, "out.txt")
        with open(path, "w") as fh:
            fh.write(content)
        return FlyteFile(path=path)


    @task
    def write_dir(names: list[str]) -> FlyteDirectory:
        ctx = current_context()
        folder = Path(ctx.working_directory) / "parts"
        folder.mkdir()
        for name in names:
            (folder / name).write_text(name.upper())
        out = FlyteDirectory(path=str(folder))
        return out


    @task
    def read_file(f: FlyteFile) -> str:
        with open(f.download()) as fh:
            return fh.read()


    @task
    def read_dir(d: FlyteDirectory) -> list[str]:
        local = d.download()
        return sorted(Path(local, n).read_text() for n in os.listdir(local))


    @task
    def shapes(
        files: list[FlyteFile], by_name: dict[str, FlyteDirectory], named: typing.Dict[str, typing.List[FlyteFile]]
    ) -> list[FlyteFile]:
        return files


    @task
    def pair(f: FlyteFile, d: FlyteDirectory) -> typing.Tuple[FlyteFile, FlyteDirectory]:
        return f, d


    @workflow
    def wf(content: str, names: list[str]) -> tuple[str, list[str]]:
        f = write_file(content=content)
        d = write_dir(names=names)
        return read_file(f=f), read_dir(d=d)
    """


def _types(interface: Any) -> dict[str, dict[str, Any]]:
    """Each input's and output's literal type, as a dict (flyteidl and flyteidl2 name these alike)."""
    out = {}
    for side in ("inputs", "outputs"):
        variables = getattr(interface, side).variables
        # flyteidl's VariableMap is a map; flyteidl2's a list of entries.
        items = variables.items() if hasattr(variables, "items") else ((v.key, v.value) for v in variables)
        for name, var in items:
            literal = MessageToDict(var.type)
            literal.pop("structure", None)  # flytekit names the Python type there; flyte does not
            out[f"{side}.{name}"] = literal
    return out


def test_file_and_dir_interfaces_serialize_like_flytekits(tmp_path: pathlib.Path) -> None:
    old, new, _report, code = programs(tmp_path, "io_types", PROGRAM)
    assert "FlyteFile" not in code
    assert "FlyteDirectory" not in code
    assert "current_context" not in code
    ctx = SerializationContext(version="v1", project="p", domain="d", root_dir=tmp_path)
    for name in ("write_file", "write_dir", "read_file", "read_dir", "shapes", "pair"):
        v1 = get_serializable(OrderedDict(), oracle._SETTINGS, getattr(old, name)).template.interface.to_flyte_idl()
        v2 = task_serde.get_proto_task(getattr(new, name), ctx).interface
        assert _types(v2) == _types(v1), name
    # The bare forms, as read from both SDKs: a single blob and a multipart one, format "".
    v1 = get_serializable(OrderedDict(), oracle._SETTINGS, old.shapes).template.interface.to_flyte_idl()
    types = _types(v1)
    assert types["inputs.files"] == {"collectionType": {"blob": {}}}
    assert types["inputs.by_name"] == {"mapValueType": {"blob": {"dimensionality": "MULTIPART"}}}


def test_files_written_in_the_working_directory_run_to_the_same_values(tmp_path: pathlib.Path) -> None:
    old, new, _report, code = programs(tmp_path, "io_run", PROGRAM)
    assert "import tempfile\n" in code
    assert "from flyte.io import Dir, File\n" in code
    assert 'path = os.path.join(tempfile.mkdtemp(), "out.txt")\n' in code
    assert "return File.from_local_sync(path)\n" in code
    assert "out = Dir.from_local_sync(str(folder))\n" in code
    assert "with open(f.download_sync()) as fh:\n" in code
    assert "local = d.download_sync()\n" in code
    import flyte  # noqa: PLC0415 - only the tests that run a program import it

    flyte.init()
    outputs = flyte.with_runcontext(mode="local").run(new.wf, content="hello", names=["a", "b"]).outputs()
    expected = old.wf(content="hello", names=["a", "b"])
    assert (outputs[0], list(outputs[1])) == (expected[0], list(expected[1])) == ("hello", ["A", "B"])


def test_a_use_without_an_exact_form_blocks_at_its_line() -> None:
    source = textwrap.dedent(
        """\
        from flytekit import task
        from flytekit.types.file import FlyteFile


        @task
        def size(f: FlyteFile) -> int:
            return len(f.path)
        """
    )
    result = migrate_source(source, path="m.py")
    assert result.status == "unchanged"
    assert [(b.line, b.construct) for b in result.blockers] == [(6, "types.file.FlyteFile"), (7, "f.path")]
    assert "Flyte 2's File.path is the stored, usually remote, URI" in result.blockers[1].reason


def test_imports_go_where_isort_puts_them_without_a_standard_library_block() -> None:
    source = textwrap.dedent(
        """\
        # header
        import flytekit
        from flytekit.types.directory import FlyteDirectory


        @flytekit.task
        def t() -> FlyteDirectory:
            return FlyteDirectory(path=flytekit.current_context().working_directory)
        """
    )
    result = migrate_source(source, path="m.py")
    assert not result.blockers
    assert result.code.startswith(
        "# header\nimport tempfile\n\nimport flyte\nfrom flyte.io import Dir\n\nenv = flyte.TaskEnvironment("
    )
    assert "    return Dir.from_local_sync(tempfile.mkdtemp())\n" in result.code


def test_a_name_file_taken_is_written_flyte_io_file() -> None:
    source = textwrap.dedent(
        """\
        from flytekit import task
        from flytekit.types.file import FlyteFile

        File = "taken"


        @task
        def t(f: FlyteFile) -> FlyteFile:
            return FlyteFile(path=f.download())
        """
    )
    result = migrate_source(source, path="m.py")
    assert not result.blockers
    assert result.code.startswith('import flyte\nimport flyte.io\n\nFile = "taken"\n')
    assert "def t(f: flyte.io.File) -> flyte.io.File:\n" in result.code
    assert "    return flyte.io.File.from_local_sync(f.download_sync())\n" in result.code
    # With `import flyte` written already, `import flyte.io` goes right after it.
    again = migrate_source("import flyte\n" + source, path="m.py")
    assert again.code.startswith('import flyte\nimport flyte.io\n\nFile = "taken"\n')


def test_what_a_task_that_stays_holds_stays_with_it() -> None:
    source = textwrap.dedent(
        """\
        from flytekit import task
        from flytekit.types.file import FlyteFile


        @task(container_image="{{.image.default}}")
        def t(f: FlyteFile) -> str:
            return f.download()
        """
    )
    result = migrate_source(source, path="m.py")
    assert result.status == "unchanged"
    assert [(b.line, b.construct) for b in result.blockers] == [(5, "@task t"), (6, "types.file.FlyteFile")]
    assert result.blockers[1].reason.startswith("t stays on flytekit for the reason given at its definition")
