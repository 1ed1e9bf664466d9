"""Find flytekit resource declarations in source code and evaluate them statically.

The module is never imported. Names are resolved through its own imports
(`from flytekit import Resources as R`, `import flytekit.extras.accelerators
as acc`, ...) and module-level constants (`flyteres.source.names`); anything
that needs running code is reported with the reason instead of guessed
(`flyteres.source.values`). `Analysis` parses a module once with libcst and
once with `ast` (for line numbers, see `flyteres.source.walk`) and holds what
the codemod needs; `find_declarations` is the public view of it.
"""

from __future__ import annotations

import ast
import io
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

import libcst as cst

from flyteres._errors import FlyteresError
from flyteres.convert.flytekit import from_flytekit
from flyteres.core.spec import ResourceSpec
from flyteres.source.names import RESOURCE_ARGUMENTS, ModuleNames, dotted_name
from flyteres.source.values import (
    Combo,
    Evaluator,
    Leaf,
    ResourcesValue,
    accelerator_argument,
    combinations,
    field_value,
    leaf_value,
    shorten,
)
from flyteres.source.walk import CallSite, Span, Walk, ast_lines, bound_in, call_key

__all__ = [
    "Analysis",
    "Declaration",
    "DeclarationKind",
    "Found",
    "SourceParseError",
    "evaluate_spec",
    "find_declarations",
    "flytekit_kwargs",
]


class SourceParseError(FlyteresError, ValueError):
    """The source does not parse (with libcst or with Python's own parser)."""

    def __init__(self, path: str, line: int | None, reason: str) -> None:
        self.path = path
        self.line = line
        self.reason = reason
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: cannot parse: {reason}")


class DeclarationKind(str, Enum):
    """What kind of construct declares the resources."""

    TASK = "task"
    DYNAMIC = "dynamic"
    EAGER = "eager"
    WITH_OVERRIDES = "with_overrides"
    MAP_TASK_OVERRIDES = "map_task_overrides"
    CONTAINER_TASK = "container_task"
    #: Anything else given flytekit Resources: NotebookTask, plugin replica
    #: configs, Union's ActorEnvironment, an unknown decorator...
    OTHER = "other"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Declaration:
    """One place in a module that declares flytekit resources.

    `spec` is what flytekit would put on the wire, evaluated statically, or
    None with `reason` saying why it cannot be known without running the
    module. `arguments` holds the resource arguments' source as written;
    `other_arguments` the rest of the call's arguments (positional ones under
    `"*0"`, `"*1"`, ...). For an override, `target` is the task it applies to.

    >>> [d.name for d in find_declarations("from flytekit import task, Resources\\n"
    ...     "@task(requests=Resources(cpu='1'))\\ndef f(): ...\\n")]
    ['f']
    """

    kind: DeclarationKind
    name: str
    line: int
    spec: ResourceSpec | None
    reason: str | None
    arguments: Mapping[str, str]
    other_arguments: Mapping[str, str]
    path: str = "<string>"
    target: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "name": self.name,
            "path": self.path,
            "line": self.line,
            "spec": None if self.spec is None else self.spec.to_dict(),
            "reason": self.reason,
            "arguments": dict(self.arguments),
            "other_arguments": dict(self.other_arguments),
            "target": self.target,
        }


@dataclass(eq=False)
class Found:
    """A declaration with everything the transform needs (internal)."""

    kind: DeclarationKind
    name: str
    line: int
    site: CallSite
    resource_args: dict[str, cst.Arg]
    other_args: list[cst.Arg]
    requests: ResourcesValue | None = None
    limits: ResourcesValue | None = None
    resources: ResourcesValue | None = None
    accelerator: Leaf | None = None
    shared_memory: Leaf | None = None
    problem: str | None = None  # structural: **kwargs, positional arguments...
    target: str | None = None
    target_shape: str | None = None  # for overrides: "task", "map_task", "chained", "other"
    # For an override on a call (`t(...)`, `mod.t(...)`): the called expression, which may
    # name a task of another module.
    callee: cst.BaseExpression | None = None

    @property
    def call(self) -> cst.Call:
        return self.site.call

    def resource_values(self) -> Iterator[tuple[str, ResourcesValue]]:
        for key in ("requests", "limits", "resources"):
            rv = getattr(self, key)
            if rv is not None:
                yield key, rv

    def leaves(self) -> list[Leaf]:
        out: list[Leaf] = []
        for _, rv in self.resource_values():
            out.extend(rv.leaves())
        if self.accelerator is not None:
            out.append(self.accelerator)
        if self.shared_memory is not None:
            out.append(self.shared_memory)
        return out

    def not_static(self) -> str | None:
        """Why the declaration cannot be evaluated statically, or None."""
        if self.problem is not None:
            return self.problem
        for key, rv in self.resource_values():
            if rv.reason is not None:
                return f"{key}= {rv.reason}"
        for key, rv in self.resource_values():
            for name, fv in rv.fields.items():
                for leaf in fv.leaves():
                    if leaf.reason is not None:
                        return f"{key}.{name}: {leaf.reason}"
        for key in ("accelerator", "shared_memory"):
            leaf = getattr(self, key)
            if leaf is not None and leaf.reason is not None:
                return f"{key}: {leaf.reason}"
        return None


class Analysis:
    """A parsed module: its names, the walk's calls, the declarations found
    (`found`), and what the codemod needs around them: lines, source text,
    local scopes, and static values (`values`, an `Evaluator`)."""

    def __init__(self, source: str, path: str = "<string>") -> None:
        self.source = source
        self.path = path
        try:
            self.module = cst.parse_module(source)
        except cst.ParserSyntaxError as exc:
            raise SourceParseError(path, exc.raw_line, exc.message) from None
        try:
            tree = ast.parse(source, filename=path)
        except SyntaxError as exc:
            raise SourceParseError(path, exc.lineno, exc.msg) from None
        except ValueError as exc:  # e.g. NUL bytes
            raise SourceParseError(path, None, str(exc)) from None
        self.names = ModuleNames(self.module)
        self.walk = Walk(self.module, self.names)
        self.values = Evaluator(self.module, self.names, self.walk.globals)
        self._spans: dict[int, Span] = {}
        self._source_lines: list[str] | None = None
        self.top_lines: list[int] | None = None
        self._lines = self._line_table(tree)
        self._locals: dict[int, frozenset[str]] = {}
        # Receivers of a .with_overrides() whose result gets another .with_overrides().
        self._chained: set[int] = set()
        for site in self.walk.calls:
            if site.key == "a:with_overrides":
                receiver = site.call.func.value  # type: ignore[attr-defined]
                if isinstance(receiver, cst.Call) and call_key(receiver.func) == "a:with_overrides":
                    self._chained.add(id(receiver))
        self.found: list[Found] = []
        for site in self.walk.calls:
            found = self._declaration(site)
            if found is not None:
                self.found.append(found)

    # -- lines --------------------------------------------------------------------------------

    def _line_table(self, tree: ast.Module) -> dict[int, int]:
        stmt_lines, first_lines, call_spans = ast_lines(tree)
        out: dict[int, int] = {}
        if len(stmt_lines) == self.walk.statements:
            for site in self.walk.calls:
                span = call_spans.get((site.statement, site.key, site.ordinal))
                if span is None:
                    out[id(site.call)] = stmt_lines[site.statement]
                else:
                    out[id(site.call)] = span[0]
                    self._spans[id(site.call)] = span
            # Where each top-level statement's text starts (its leading blank and comment lines included).
            self.top_lines = [
                first_lines[ordinal] - len(stmt.leading_lines)
                for ordinal, stmt in zip(self.walk.top_ordinals, self.module.body, strict=True)
            ]
            return out
        # The two parsers disagree on the statements (should not happen): ask libcst.
        from libcst.metadata import MetadataWrapper, PositionProvider  # noqa: PLC0415 - rare path

        positions = MetadataWrapper(self.module, unsafe_skip_copy=True).resolve(PositionProvider)
        for site in self.walk.calls:
            out[id(site.call)] = positions[site.call].start.line
        return out

    def line(self, call: cst.Call) -> int:
        """The line a call starts on (0 when unknown)."""
        return self._lines.get(id(call), 0)

    def code(self, node: cst.CSTNode) -> str:
        """A node's source as libcst writes it."""
        return self.values.code(node)

    def multiline(self, call: cst.Call) -> bool:
        """Whether the call spans lines (only then can it hold comments)."""
        span = self._spans.get(id(call))
        return span is None or span[0] != span[2]

    @property
    def lines(self) -> list[str]:
        """The source split into lines the way Python counts them, line endings kept."""
        if self._source_lines is None:
            self._source_lines = io.StringIO(self.source, newline="").readlines()
        return self._source_lines

    def call_text(self, call: cst.Call) -> str:
        """A call's source as written (sliced from the text; codegen only as a fallback)."""
        span = self._spans.get(id(call))
        if span is None:
            return self.code(call)
        first, col, last, end = span
        chunk = [line.encode() for line in self.lines[first - 1 : last]]
        if len(chunk) == 1:
            return chunk[0][col:end].decode()
        return (chunk[0][col:] + b"".join(chunk[1:-1]) + chunk[-1][:end]).decode()

    # -- scopes ---------------------------------------------------------------------------------

    def local_names(self, scopes: Sequence[cst.CSTNode]) -> frozenset[str]:
        """Names bound in the enclosing functions/classes (they shadow module constants)."""
        out: set[str] = set()
        for scope in scopes:
            cached = self._locals.get(id(scope))
            if cached is None:
                cached = bound_in(scope)
                self._locals[id(scope)] = cached
            out |= cached
        return frozenset(out)

    # -- declarations ---------------------------------------------------------------------------

    def _declaration(self, site: CallSite) -> Found | None:
        call = site.call
        canonical_func = self.names.canonical(call.func)
        if site.function is not None and canonical_func in ("task", "dynamic", "eager"):
            kind = DeclarationKind(canonical_func)
            name = site.function.name.value
        elif site.key == "a:with_overrides":
            kind = DeclarationKind.WITH_OVERRIDES
            name = ""
        elif canonical_func == "ContainerTask":
            kind = DeclarationKind.CONTAINER_TASK
            name = "ContainerTask"
        elif canonical_func == "Resources":
            return None
        else:
            kind = DeclarationKind.OTHER
            name = self.code(call.func).strip()
        resource_args: dict[str, cst.Arg] = {}
        other: list[cst.Arg] = []
        problem = None
        for arg in call.args:
            if arg.keyword is not None and arg.keyword.value in RESOURCE_ARGUMENTS:
                resource_args[arg.keyword.value] = arg
            else:
                other.append(arg)
                if arg.star == "**":
                    problem = f"unpacks keyword arguments ({shorten(self.code(arg))}); they may hold resources"
        if not resource_args and problem is None:
            return None
        local = self.local_names(site.scopes)
        found = Found(kind, name, self.line(call), site, resource_args, other, problem=problem)
        for key in ("requests", "limits", "resources"):
            if key in resource_args:
                setattr(found, key, self.values.resources_value(resource_args[key].value, local))
        if kind is DeclarationKind.OTHER and not any(v.call is not None for _, v in found.resource_values()):
            # Some unrelated call that happens to take requests=/limits= (an HTTP client...).
            return None
        if "accelerator" in resource_args:
            found.accelerator = self.values.accelerator_leaf(resource_args["accelerator"].value, local)
        if "shared_memory" in resource_args:
            found.shared_memory = self.values.leaf(resource_args["shared_memory"].value, local)
        if kind is DeclarationKind.WITH_OVERRIDES:
            self._override_target(found)
        if kind is DeclarationKind.CONTAINER_TASK:
            name_arg = next((a for a in call.args if a.keyword is not None and a.keyword.value == "name"), None)
            if name_arg is not None and isinstance(name_arg.value, cst.SimpleString):
                value = name_arg.value.evaluated_value
                found.name = value if isinstance(value, str) else found.name
        return found

    def _override_target(self, found: Found) -> None:
        func = found.call.func
        assert isinstance(func, cst.Attribute)
        receiver = func.value
        found.name = shorten(self.code(receiver).strip())
        if id(found.call) in self._chained or (
            isinstance(receiver, cst.Call) and call_key(receiver.func) == "a:with_overrides"
        ):
            found.target_shape = "chained"
            inner = receiver
            while isinstance(inner, cst.Call) and call_key(inner.func) == "a:with_overrides":
                inner = inner.func.value  # type: ignore[attr-defined]
            self._set_target(found, inner)
            return
        self._set_target(found, receiver)

    def _set_target(self, found: Found, receiver: cst.BaseExpression) -> None:
        if isinstance(receiver, cst.Call) and isinstance(receiver.func, (cst.Name, cst.Attribute)):
            found.callee = receiver.func
            dotted = dotted_name(receiver.func)
            if dotted is not None and found.target_shape != "chained":
                found.name = dotted  # `mod.task(...)`: named like the task it may be
        if isinstance(receiver, cst.Call) and isinstance(receiver.func, cst.Name):
            found.target = receiver.func.value
            found.target_shape = found.target_shape or "task"
        elif (
            isinstance(receiver, cst.Call)
            and isinstance(receiver.func, cst.Call)
            and self.names.canonical(receiver.func.func) == "map_task"
            and receiver.func.args
            and isinstance(receiver.func.args[0].value, cst.Name)
        ):
            found.target = receiver.func.args[0].value.value
            found.target_shape = found.target_shape or "map_task"
            if found.kind is DeclarationKind.WITH_OVERRIDES:
                found.kind = DeclarationKind.MAP_TASK_OVERRIDES
        else:
            found.target_shape = found.target_shape or "other"
        if found.target is not None:
            found.name = found.target

    # -- the public view ------------------------------------------------------------------------

    def declaration(self, found: Found) -> Declaration:
        spec, reason = evaluate_spec(found)
        other: dict[str, str] = {}
        for i, arg in enumerate(found.other_args):
            key = arg.keyword.value if arg.keyword is not None else f"{arg.star or '*'}{i}"
            other[key] = self.code(arg.value).strip()
        return Declaration(
            kind=found.kind,
            name=found.name,
            line=found.line,
            spec=spec,
            reason=reason,
            arguments={k: self.code(a.value).strip() for k, a in found.resource_args.items()},
            other_arguments=other,
            path=self.path,
            target=found.target,
        )


def flytekit_kwargs(found: Found, combo: Combo, *, keys: Sequence[str] = RESOURCE_ARGUMENTS) -> dict[str, object]:
    """The `from_flytekit` keyword arguments of a declaration for one combination of values."""
    out: dict[str, object] = {}
    for key, rv in found.resource_values():
        if key in keys:
            out[key] = {name: field_value(fv, combo) for name, fv in rv.fields.items()}
    if "accelerator" in keys and found.accelerator is not None:
        out["accelerator"] = accelerator_argument(leaf_value(found.accelerator, combo))
    if "shared_memory" in keys and found.shared_memory is not None:
        out["shared_memory"] = leaf_value(found.shared_memory, combo)
    return out


def evaluate_spec(found: Found) -> tuple[ResourceSpec | None, str | None]:
    """The declaration's ResourceSpec, or None and why it cannot be known statically."""
    why = found.not_static()
    if why is not None:
        return None, why
    combos = combinations(found.leaves())
    if combos is None or len(combos) != 1:
        varying = [leaf.code for leaf in found.leaves() if len(leaf.values) > 1]
        return None, f"chosen at import time: {', '.join(shorten(c) for c in varying)}"
    try:
        return from_flytekit(**flytekit_kwargs(found, combos[0])), None
    except (ValueError, TypeError) as exc:
        return None, str(exc)


def find_declarations(source: str, path: str = "<string>") -> list[Declaration]:
    """Every flytekit resource declaration in `source`, statically evaluated.

    Raises `SourceParseError` when the source does not parse.

    >>> src = '''
    ... from flytekit import Resources, task
    ... from flytekit.extras.accelerators import T4
    ...
    ... @task(limits=Resources(gpu="1"), accelerator=T4)
    ... def embed() -> None: ...
    ... '''
    >>> d = find_declarations(src)[0]
    >>> d.kind.value, d.name, d.line, d.spec
    ('task', 'embed', 5, ResourceSpec(limits={gpu='1'}, accelerator=nvidia-tesla-t4))
    """
    analysis = Analysis(source, path)
    return [analysis.declaration(f) for f in analysis.found]
