"""flytekit's names and a module's own: imports, aliases and module-level bindings.

A declaration is recognised through the module's imports (`from flytekit
import Resources as R`, `import flytekit.extras.accelerators as acc`,
`from union import task`) and never by importing anything: `canonical` maps
a qualified name to flytekit's public name, and `ModuleNames` reads the
imports and every module-level binding (each with the top-level statement it
belongs to and whether a branch chooses it at import time) from the
module's statements alone.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import libcst as cst

from flyteres import accelerators

__all__ = [
    "POSITIONAL_FIELDS",
    "RESOURCE_ARGUMENTS",
    "Binding",
    "ModuleNames",
    "canonical",
    "dotted_name",
]

#: Keyword arguments that carry resources on flytekit's task and override APIs.
RESOURCE_ARGUMENTS = ("requests", "limits", "resources", "accelerator", "shared_memory")
#: flytekit's Resources fields in positional order.
POSITIONAL_FIELDS = ("cpu", "mem", "gpu", "ephemeral_storage")


def canonical(qualified: str | None) -> str | None:
    """flytekit's public name for a qualified name, or None when it is not flytekit's.

    `union` re-exports flytekit's task API (`union.Resources`, `union.task`).
    """
    if qualified is None:
        return None
    head, _, rest = qualified.partition(".")
    if head not in ("flytekit", "union", "unionai"):
        return None
    if head == "flytekit" and (rest == "extras.accelerators" or rest.startswith("extras.accelerators.")):
        return "accelerators" + rest[len("extras.accelerators") :]
    return _KNOWN.get(rest)


_KNOWN = {
    "Resources": "Resources",
    "core.resources.Resources": "Resources",
    "task": "task",
    "core.task.task": "task",
    "dynamic": "dynamic",
    "core.dynamic_workflow_task.dynamic": "dynamic",
    "eager": "eager",
    "core.task.eager": "eager",
    "experimental.eager": "eager",
    "ContainerTask": "ContainerTask",
    "core.container_task.ContainerTask": "ContainerTask",
    "map_task": "map_task",
    "core.array_node_map_task.map_task": "map_task",
    "experimental.map_task": "map_task",
}
# What `from flytekit import *` (or the accelerators module's *) makes available.
_STAR_NAMES = {
    "flytekit": {"Resources", "task", "dynamic", "eager", "ContainerTask", "map_task"},
    "flytekit.extras.accelerators": {
        *(e.flytekit_constant for e in accelerators.catalog() if e.flytekit_constant),
        "GPUAccelerator",
    },
}


@dataclass
class Binding:
    """One module-level binding of a name: the expression assigned (when it is a plain
    assignment), the top-level statement it belongs to, and whether a branch
    (`if`, `try`, `match`) chooses it at import time."""

    value: cst.BaseExpression | None  # None: bound by an import, def, loop, unpacking...
    top: int
    conditional: bool


def dotted_name(node: cst.BaseExpression) -> str | None:
    """`a.b.c` for a name or an attribute chain of names; None for anything else."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = dotted_name(node.value)
        return None if base is None else f"{base}.{node.attr.value}"
    return None


class ModuleNames:
    """Imports and module-level bindings, from the module's statements only."""

    def __init__(self, module: cst.Module) -> None:
        self.imports: dict[str, str] = {}
        self.star: set[str] = set()
        self.bindings: dict[str, list[Binding]] = {}
        self.exported: set[str] = set()
        for top, stmt in enumerate(module.body):
            self._statement(stmt, top, conditional=False, loop=False)

    def _bind(self, name: str, value: cst.BaseExpression | None, top: int, conditional: bool) -> None:
        self.bindings.setdefault(name, []).append(Binding(value, top, conditional))

    def _targets(self, target: cst.BaseExpression, top: int, conditional: bool) -> None:
        if isinstance(target, cst.Name):
            self._bind(target.value, None, top, conditional)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for el in target.elements:
                self._targets(el.value, top, conditional)
        elif isinstance(target, cst.StarredElement):
            self._targets(target.value, top, conditional)

    def _statement(self, stmt: cst.CSTNode, top: int, *, conditional: bool, loop: bool) -> None:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                self._small(small, top, conditional=conditional, loop=loop)
            return
        if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            self._bind(stmt.name.value, None, top, conditional)
            return
        cond = conditional
        if isinstance(stmt, (cst.For, cst.While)):
            if isinstance(stmt, cst.For):
                self._targets(stmt.target, top, conditional)
            inner_loop = True
        else:
            inner_loop = loop
            if isinstance(stmt, (cst.If, cst.Try, cst.TryStar, cst.Match)):
                cond = True
            if isinstance(stmt, cst.With):
                for item in stmt.items:
                    if item.asname is not None:
                        self._targets(item.asname.name, top, conditional)
        for block in _blocks(stmt):
            for inner in block:
                self._statement(inner, top, conditional=cond, loop=inner_loop)

    def _small(self, small: cst.BaseSmallStatement, top: int, *, conditional: bool, loop: bool) -> None:
        if isinstance(small, cst.Import):
            for alias in small.names:
                dotted = dotted_name(alias.name)
                if dotted is None:
                    continue
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    local = alias.asname.name.value
                    self.imports[local] = dotted
                else:
                    local = dotted.partition(".")[0]
                    self.imports[local] = local
                self._bind(local, None, top, conditional)
        elif isinstance(small, cst.ImportFrom):
            # A relative import keeps its leading dots (`.etl.extract`): never flytekit's,
            # but the codemod resolves it against the other modules of a run.
            dots = "." * len(small.relative)
            module = dots if small.module is None else dotted_name(small.module)
            if module is None:
                return
            if small.module is not None and dots:
                module = dots + module
            if isinstance(small.names, cst.ImportStar):
                if not dots:
                    self.star.add(module)
                return
            for alias in small.names:
                if not isinstance(alias.name, cst.Name):
                    continue
                local = alias.name.value
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    local = alias.asname.name.value
                self.imports[local] = f"{module}{'' if module.endswith('.') else '.'}{alias.name.value}"
                self._bind(local, None, top, conditional)
        elif isinstance(small, cst.Assign):
            for t in small.targets:
                if isinstance(t.target, cst.Name) and not loop:
                    self._bind(t.target.value, small.value, top, conditional)
                    if t.target.value == "__all__":
                        self.exported |= _strings(small.value)
                else:
                    self._targets(t.target, top, conditional)
        elif isinstance(small, cst.AnnAssign):
            if small.value is not None:
                if isinstance(small.target, cst.Name) and not loop:
                    self._bind(small.target.value, small.value, top, conditional)
                else:
                    self._targets(small.target, top, conditional)
        elif isinstance(small, cst.AugAssign):
            self._targets(small.target, top, conditional)
            if isinstance(small.target, cst.Name) and small.target.value == "__all__":
                self.exported |= _strings(small.value)
        elif isinstance(small, cst.Del):
            self._targets(small.target, top, conditional)

    def qualified(self, node: cst.BaseExpression) -> str | None:
        """The dotted name an expression refers to through the imports, if any."""
        if isinstance(node, cst.Name):
            if node.value in self.imports:
                return self.imports[node.value]
            for module in sorted(self.star):
                if node.value in _STAR_NAMES.get(module, ()) and node.value not in self.bindings:
                    return f"{module}.{node.value}"
            return None
        if isinstance(node, cst.Attribute):
            base = self.qualified(node.value)
            return None if base is None else f"{base}.{node.attr.value}"
        return None

    def canonical(self, node: cst.BaseExpression) -> str | None:
        """flytekit's public name for what an expression refers to, if it is flytekit's."""
        return canonical(self.qualified(node))


def _strings(node: cst.BaseExpression) -> set[str]:
    out: set[str] = set()
    if isinstance(node, (cst.List, cst.Tuple, cst.Set)):
        for el in node.elements:
            if isinstance(el.value, cst.SimpleString):
                value = el.value.evaluated_value
                if isinstance(value, str):
                    out.add(value)
    return out


def _blocks(stmt: cst.CSTNode) -> Iterator[Sequence[cst.CSTNode]]:
    """The statement lists directly inside a compound statement, in source order."""
    if isinstance(stmt, cst.If):
        yield _body(stmt.body)
        if stmt.orelse is not None:
            if isinstance(stmt.orelse, cst.If):
                yield (stmt.orelse,)
            else:
                yield _body(stmt.orelse.body)
    elif isinstance(stmt, (cst.Try, cst.TryStar)):
        yield _body(stmt.body)
        for handler in stmt.handlers:
            yield _body(handler.body)
        if stmt.orelse is not None:
            yield _body(stmt.orelse.body)
        if stmt.finalbody is not None:
            yield _body(stmt.finalbody.body)
    elif isinstance(stmt, (cst.For, cst.While, cst.With)):
        yield _body(stmt.body)
        if not isinstance(stmt, cst.With) and stmt.orelse is not None:
            yield _body(stmt.orelse.body)
    elif isinstance(stmt, cst.Match):
        for case in stmt.cases:
            yield _body(case.body)


def _body(suite: cst.BaseSuite) -> Sequence[cst.CSTNode]:
    return suite.body
