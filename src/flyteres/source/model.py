"""What `flyteres.source` finds in a module: the records every command reads.

- `Found`: one flytekit call that declares resources (a task decorator, a
  `with_overrides`, a `ContainerTask`, ...), with its arguments (`Argument`,
  each with its position and source text) and their static values.
- `FlyteEnvironment`, `FlyteTask`, `FlyteOverride`: Flyte 2's
  `TaskEnvironment(...)` and `env.clone_with(...)`, the `@env.task` functions,
  and `task.override(...)` calls.
- `TaskDef`: every task (and flytekit workflow) of either SDK, resources or not,
  with the calls it makes to other tasks of the module.
- `Declaration`: the public, SDK-neutral view of one declaration (what
  `find_declarations` returns and `flyteres check` reports on).

Positions are `ast`'s: lines from 1, columns in UTF-8 bytes (`flyteres.source.text`).
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from flyteres._errors import FlyteresError
from flyteres.convert.flytekit import from_flytekit
from flyteres.core.spec import ResourceSpec
from flyteres.source.names import RESOURCE_ARGUMENTS, Scope
from flyteres.source.text import SourceText, Span, span_of
from flyteres.source.values import (
    Combo,
    Leaf,
    ResourcesValue,
    accelerator_argument,
    combinations,
    field_value,
    leaf_value,
    shorten,
)
from flyteres.source.walk import CallSite

__all__ = [
    "Argument",
    "Declaration",
    "DeclarationKind",
    "FlyteEnvironment",
    "FlyteOverride",
    "FlyteTask",
    "Found",
    "SourceParseError",
    "TaskCall",
    "TaskDef",
    "Texts",
    "evaluate_spec",
    "flytekit_kwargs",
]


class SourceParseError(FlyteresError, ValueError):
    """The source does not parse with the running Python's parser."""

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
    #: Flyte 2: `flyte.TaskEnvironment(..., resources=...)`; its tasks run with them.
    ENVIRONMENT = "environment"
    #: Flyte 2: `env.clone_with(name, resources=...)`, a new environment.
    CLONE_WITH = "clone_with"
    #: Flyte 2: `task.override(resources=...)`, which replaces the task's resources whole.
    OVERRIDE = "override"
    #: Flyte 2: `@env.task(pod_template=...)`, a task whose own pod template's primary container adds
    #: resources to its environment's (docs/semantics.md, row 33).
    TASK_POD_TEMPLATE = "task_pod_template"

    def __str__(self) -> str:
        return self.value

    @property
    def sdk(self) -> str:
        """`"flyte"` for Flyte 2's constructs, `"flytekit"` for the rest."""
        return "flyte" if self in _FLYTE_KINDS else "flytekit"


_FLYTE_KINDS = frozenset(
    {
        DeclarationKind.ENVIRONMENT,
        DeclarationKind.CLONE_WITH,
        DeclarationKind.OVERRIDE,
        DeclarationKind.TASK_POD_TEMPLATE,
    }
)


@dataclass(frozen=True)
class Declaration:
    """One place in a module that declares resources, for either SDK.

    `spec` is what the SDK would put on the wire, evaluated statically, or
    None with `reason` saying why it cannot be known without running the
    module (`refused` is True when the SDK itself refuses the values: the
    module fails when it is imported). `arguments` holds the resource
    arguments' source as written; `other_arguments` the rest of the call's
    arguments (positional ones under `"*0"`, `"*1"`, ...). For an override,
    `target` is the task it applies to. For a Flyte 2 environment, `tasks`
    names the module's tasks that run in it; `variable` is the module-level
    name it is bound to.

    >>> from flyteres.source.analysis import find_declarations
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
    refused: bool = False
    tasks: tuple[str, ...] = ()
    variable: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def sdk(self) -> str:
        """`"flytekit"` or `"flyte"` (Flyte 2)."""
        return self.kind.sdk

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
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
        if self.kind.sdk == "flyte":
            out.update(sdk="flyte", refused=self.refused, tasks=list(self.tasks), variable=self.variable)
        if self.notes:
            out["notes"] = list(self.notes)
        return out


class Texts(Mapping[str, str]):
    """Arguments' source texts by name, read from the source only when asked for
    (`flyteres check` reads thousands of declarations and shows few of them).

    It keeps where each value is, not the syntax tree: records of a whole
    tree stay small, and the cycle collector has little to walk.
    """

    def __init__(self, text: SourceText, arguments: Mapping[str, Argument]) -> None:
        self._text = text
        # name -> (the value's span, where the callee ends for a positional argument)
        self._where: dict[str, tuple[Span, tuple[int, int] | None]] = {}
        for name, arg in arguments.items():
            func = arg.call.func
            after = (func.end_lineno or func.lineno, func.end_col_offset or 0) if not arg.keyword else None
            self._where[name] = (span_of(arg.value), after if arg.star == "" and arg.index >= 0 else None)
        self._texts: dict[str, str] = {}

    def __getitem__(self, key: str) -> str:
        text = self._texts.get(key)
        if text is None:
            span, after = self._where[key]
            opened = None if after is None else self._text.call_open_after(*after)
            text = self._texts[key] = self._text.expression(span, opened).strip()
        return text

    def __iter__(self) -> Iterator[str]:
        return iter(self._where)

    def __len__(self) -> int:
        return len(self._where)

    def __repr__(self) -> str:
        return repr(dict(self))


@dataclass(eq=False)
class Argument:
    """One argument of a call, in source order.

    `keyword` is None for a positional argument (and for `**`); `star` is
    `""`, `"*"` or `"**"`. `code` is the argument as a concrete syntax tree
    holds it (from its first character to the next argument's, comma
    included); `value_code` is the value with its own parentheses.
    """

    keyword: str | None
    star: str
    value: ast.expr
    index: int
    call: ast.Call
    _code: Callable[[], str] = field(repr=False)
    _value_code: Callable[[], str] = field(repr=False)
    unpacked_from: str | None = None  # set for an argument read out of a `**` dict

    @property
    def code(self) -> str:
        return self._code()

    @property
    def value_code(self) -> str:
        return self._value_code()

    @property
    def line(self) -> int:
        return self.value.lineno


@dataclass(eq=False)
class Found:
    """A flytekit call that declares resources, with everything a command needs about it.

    `resource_args` and `other_args` are the call's own arguments; arguments
    given through a `**` dict the module defines are in `unpacked` (and
    `problem` still says the call unpacks keyword arguments: a rewrite cannot
    edit them in place). `expanded()` is the declaration with them read in.
    """

    kind: DeclarationKind
    name: str
    line: int
    site: CallSite
    resource_args: dict[str, Argument]
    other_args: list[Argument]
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
    callee: ast.expr | None = None
    unpacked: dict[str, Argument] = field(default_factory=dict)
    unpack_problem: str | None = None  # why a `**` argument could not be read
    pod_template: Argument | None = None
    _expanded: Found | None = field(default=None, repr=False)

    @property
    def call(self) -> ast.Call:
        return self.site.call

    @property
    def scopes(self) -> tuple[Scope, ...]:
        return self.site.scopes

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


# -- Flyte 2 ------------------------------------------------------------------------------------------


@dataclass(eq=False)
class FlyteEnvironment:
    """`flyte.TaskEnvironment(...)` or `<env>.clone_with(...)`.

    `resources` is the `resources=` argument (None when it is not given: a
    clone then keeps its base's); `base` is the cloned environment's
    expression. `variable` is the module-level name it is bound to, if any.
    """

    kind: DeclarationKind  # ENVIRONMENT or CLONE_WITH
    site: CallSite
    arguments: dict[str, Argument]  # by parameter name, positional ones mapped to theirs
    resources: ResourcesValue | None = None
    name: str | None = None  # the environment's name, when it is a literal
    variable: str | None = None
    base: ast.expr | None = None
    problem: str | None = None
    #: The module's tasks that run in it, by name (names, so environment and task form no cycle).
    tasks: list[str] = field(default_factory=list)

    @property
    def call(self) -> ast.Call:
        return self.site.call

    @property
    def line(self) -> int:
        return self.site.call.lineno

    @property
    def label(self) -> str:
        """How a report names it: the variable, else the environment's name."""
        return self.variable or self.name or "?"

    @property
    def reusable(self) -> bool:
        """Whether the environment is reusable (then `override(resources=...)` raises)."""
        arg = self.arguments.get("reusable")
        return arg is not None and not (isinstance(arg.value, ast.Constant) and arg.value.value is None)


@dataclass(eq=False)
class FlyteTask:
    """A function decorated with `@env.task` or `@env.task(...)`.

    `environment` is the environment when this module defines it; otherwise
    `env_qualified` is the imported name it comes from (another module of a
    run may define it), or None when it cannot be known.
    """

    function: ast.FunctionDef | ast.AsyncFunctionDef
    decorator: ast.expr
    env_expr: ast.expr
    site_scopes: tuple[Scope, ...]
    top: int
    environment: FlyteEnvironment | None = None
    env_qualified: str | None = None
    reason: str | None = None  # why the environment is not known

    @property
    def name(self) -> str:
        return self.function.name

    @property
    def line(self) -> int:
        return self.decorator.lineno


@dataclass(eq=False)
class FlyteOverride:
    """`task.override(...)`: a new task template whose `resources=` (when given) replaces the
    task's whole. `target` is the task's name as written; `resources` is None when the
    override does not set them (the task keeps its own)."""

    site: CallSite
    arguments: dict[str, Argument]
    target: str | None
    target_expr: ast.expr
    resources: ResourcesValue | None = None
    problem: str | None = None
    chained: bool = False  # the receiver is itself an override
    function: str | None = None  # the function the call is in

    @property
    def call(self) -> ast.Call:
        return self.site.call

    @property
    def line(self) -> int:
        return self.site.call.lineno

    @property
    def in_loop(self) -> bool:
        """Whether the override is written inside a `for` or `while` loop of its function."""
        return self.site.loop

    @property
    def invoked(self) -> bool:
        """Whether the new task is called right away (`t.override(...)(x)`)."""
        parent = self.site.parent
        return isinstance(parent, ast.Call) and parent.func is self.site.call

    @property
    def awaited(self) -> bool:
        """Whether that call is awaited (`await t.override(...)(x)`)."""
        return self.invoked and isinstance(self.site.grandparent, ast.Await)

    @property
    def reusable_off(self) -> bool:
        """Whether the same call passes `reusable="off"` (needed on a reusable environment)."""
        arg = self.arguments.get("reusable")
        return arg is not None and isinstance(arg.value, ast.Constant) and arg.value.value == "off"


@dataclass(frozen=True)
class TaskCall:
    """A call from one function of the module to a task (or workflow) of it, or to an
    imported name: `callee` as written, `qualified` when it is imported."""

    caller: str
    callee: str
    line: int
    col: int
    qualified: str | None = None


@dataclass(eq=False)
class TaskDef:
    """A task or flytekit workflow of either SDK, with resources or not.

    `kind` is `task`, `dynamic`, `eager` or `workflow` for flytekit, `task` for
    Flyte 2 (`sdk` tells them apart); `found` is the flytekit declaration on its
    decorator, `flyte` the Flyte 2 task record.
    """

    name: str
    sdk: str
    kind: str
    function: ast.FunctionDef | ast.AsyncFunctionDef
    scopes: tuple[Scope, ...]
    found: Found | None = None
    flyte: FlyteTask | None = None
    #: The decorator's `pod_template=` (flytekit's `@task(...)`, Flyte 2's `@env.task(...)`).
    pod_template: ast.expr | None = None

    @property
    def line(self) -> int:
        decorators = self.function.decorator_list
        return decorators[0].lineno if decorators else self.function.lineno

    @property
    def module_level(self) -> bool:
        return not self.scopes
