"""flytekit's `FlyteFile`, `FlyteDirectory` and `current_context().working_directory` in Flyte 2's exact forms.

Read from flytekit 1.16 and flyte 2.12, for synchronous task bodies (the codemod writes sync tasks):

- Types. A bare `FlyteFile` in a task's or workflow's signature is a blob of
  dimensionality SINGLE and format "" on the wire, as `flyte.io.File` is
  (`FileTransformer.get_literal_type` always writes format ""); a bare
  `FlyteDirectory` and `flyte.io.Dir` are both MULTIPART, format "". So they
  become `File` and `Dir`, also inside `list[...]` and `dict[str, ...]`
  (tests/test_migrate_io.py compares both SDKs' interfaces). In a union
  (`Optional[...]`) the variant's tag differs (flytekit `FlyteFilePath`, flyte
  `File`), so those stay; so does a parameter with a default (flytekit turns a
  str default into a blob, Flyte 2 refuses a str where a `File` is expected).
  `FlyteFile[fmt]` and its aliases (`CSVFile`, `JoblibSerializedFile`, ...)
  carry their format on the wire, which `File` never writes: they stay. Where
  the module binds `File` (`Dir`) to something else, the rewrite writes
  `flyte.io.File` and imports `flyte.io`.
- `FlyteFile(path=x)` (or `FlyteFile(x)`, `FlyteDirectory(...)`) becomes
  `File.from_local_sync(x)` (`Dir.from_local_sync(x)`) where `x` is shown to be a
  local path and the value is returned at once (`return FlyteFile(...)`, or an
  assignment followed by `return name`): flytekit reads the path when the task
  returns, `from_local_sync` when it is called, and it refuses a remote URI
  that flytekit would have passed on by reference.
- `f.download()` on a parameter typed `FlyteFile` (`FlyteDirectory`) becomes
  `f.download_sync()`: both return the local path of the content as a `str`
  (neither copies a value already on the local disk, as in a local run).
  Passing the value along (`return f`, an argument of a task call) needs
  nothing. Any other use of it blocks: `f.path` is flytekit's local path but
  Flyte 2's stored URI, a `FlyteFile` is `os.PathLike` (`open(f)`,
  `os.fspath(f)` download it) and a `File` is not, and `remote_source` has no
  counterpart.
- `current_context().working_directory`: flytekit gives each execution of a
  task one new random directory (`get_random_local_directory` in the
  entrypoint, `tempfile.mkdtemp` for local runs, which also hold a `__cp`
  checkpoint folder), the same path at every read. `tempfile.mkdtemp()` gives a
  new random empty directory at each call, so the single read of a task body,
  outside loops, comprehensions, lambdas and nested functions, becomes
  `tempfile.mkdtemp()`; so does `ctx.working_directory` where `ctx =
  current_context()` is bound once and read only there (the assignment goes).
  Any other read stays.

`plan_io` reads one module and says what changes (`IoPlan`); `rewrite_function`
applies it to a libcst function definition.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import libcst as cst

from flyteres.source.names import ModuleNames
from flyteres.source.text import Span, span_of

__all__ = ["IoPlan", "IoUse", "import_inserts", "plan_io", "rewrite_function"]

_FILE = frozenset({"flytekit.FlyteFile", "flytekit.types.file.FlyteFile", "flytekit.types.file.file.FlyteFile"})
_DIR = frozenset(
    {
        "flytekit.FlyteDirectory",
        "flytekit.types.directory.FlyteDirectory",
        "flytekit.types.directory.types.FlyteDirectory",
    }
)
_CONTEXT = frozenset({"flytekit.current_context"})
_FORMATTED_PACKAGES = ("flytekit.types.file.", "flytekit.types.directory.")
_CONTAINERS = frozenset({"list", "typing.List", "dict", "typing.Dict", "typing.Optional"})
_LOOPS = (
    ast.For,
    ast.AsyncFor,
    ast.While,
    ast.ListComp,
    ast.SetComp,
    ast.DictComp,
    ast.GeneratorExp,
    ast.Lambda,
    ast.FunctionDef,
    ast.AsyncFunctionDef,
)

_PATH_REASON = (
    "flytekit's FlyteFile.path is the local path (downloaded on first use); Flyte 2's File.path is the "
    "stored, usually remote, URI: read the content with download_sync() instead"
)
_PATHLIKE_REASON = (
    "a FlyteFile or FlyteDirectory is os.PathLike (open(), os.fspath(), str() download it first); "
    "flyte.io.File and Dir are not: only f.download() has an exact form (f.download_sync())"
)
_REMOTE_SOURCE_REASON = "Flyte 2's File and Dir have no remote_source (their path is the stored URI)"
_FORMAT_REASON = (
    '{name} carries a blob format on the wire, and flyte.io.File/Dir always write format "" '
    "(FileTransformer.get_literal_type): the interface would change"
)
_UNION_REASON = (
    "in a union (Optional, X | None) flytekit tags the variant FlyteFilePath/FlyteDirectory and Flyte 2 "
    "File/Dir: the union's literal type differs"
)
_CONTEXT_REASON = (
    "only one current_context().working_directory read in a synchronous task body, outside loops, "
    "comprehensions, lambdas and nested functions, migrates (to tempfile.mkdtemp()); {why}"
)


@dataclass(frozen=True)
class IoUse:
    """A use that keeps the module on flytekit: where, what, and why."""

    line: int
    construct: str
    reason: str


@dataclass
class IoPlan:
    """What `plan_io` found in one module."""

    #: The new text of each edit, by id() of the function and (kind, old text, occurrence):
    #: kind is `param:<name>`, `returns`, `call` or `attribute`.
    edits: dict[int, dict[tuple[str, str, int], str]] = field(default_factory=dict)
    #: Nodes holding flytekit names the edits replace.
    consumed: list[ast.AST] = field(default_factory=list)
    #: Why a flytekit name stays, by id() of its node.
    reasons: dict[int, str] = field(default_factory=dict)
    #: Uses of values that keep the module on flytekit (they hold no flytekit name).
    uses: list[IoUse] = field(default_factory=list)
    #: Which of `File`, `Dir` and `tempfile` the edits use.
    needs: set[str] = field(default_factory=set)


class _RefusedError(Exception):
    """A function with a use that has no exact form: nothing in it changes."""

    def __init__(self, use: IoUse, node: ast.AST | None = None) -> None:
        super().__init__(use.reason)
        self.use = use
        self.node = node


def plan_io(
    tree: ast.Module,
    names: ModuleNames,
    functions: Sequence[tuple[ast.FunctionDef | ast.AsyncFunctionDef, str]],
    *,
    segment: Callable[[Span], str],
    tasks: frozenset[str],
    unavailable: Mapping[str, str],
    spelled: Mapping[str, str] | None = None,
    lines: Sequence[str] = (),
    staying: Sequence[ast.FunctionDef | ast.AsyncFunctionDef] = (),
) -> IoPlan:
    """The edits for the functions that move (`functions`: each with its kind) and why the rest
    stays (`staying`: the module's flytekit tasks and workflows that do not move). `tasks` names
    the module's tasks and workflows (a call passing a value along);
    `unavailable` says why `File`, `Dir` or `tempfile` cannot be written here, for those that cannot;
    `spelled` how `File` and `Dir` are written (`flyte.io.File` where the name is taken)."""
    plan = IoPlan()
    parents = {id(c): p for p in ast.walk(tree) for c in ast.iter_child_nodes(p)}
    free = unavailable
    for function, kind in functions:
        planner = _FunctionPlan(
            function=function,
            kind=kind,
            names=names,
            parents=parents,
            segment=segment,
            tasks=tasks,
            free=free,
            spelled=spelled or {"File": "File", "Dir": "Dir"},
            lines=lines,
        )
        try:
            edits, consumed, needs = planner.plan()
        except _RefusedError as refused:
            use = refused.use
            if refused.node is None:
                plan.uses.append(use)
            else:
                plan.reasons[id(refused.node)] = use.reason
            # Nothing in the function changes: its other flytekit names say where the reason is.
            for node in ast.walk(function):
                if node is not refused.node and isinstance(node, ast.Name | ast.Attribute):
                    qualified = names.qualified(node)
                    if qualified in _FILE or qualified in _DIR or qualified in _CONTEXT:
                        plan.reasons.setdefault(
                            id(node), f"{function.name} stays: {use.construct} (line {use.line}): {use.reason}"
                        )
            continue
        if edits:
            plan.edits[id(function)] = edits
        plan.consumed.extend(consumed)
        plan.needs |= needs
    # Better reasons for the flytekit names that stay: those of a flytekit task or workflow that
    # does not move stay with it.
    for function in staying:
        for node in ast.walk(function):
            if isinstance(node, ast.Name | ast.Attribute) and names.qualified(node) in _FILE | _DIR | _CONTEXT:
                plan.reasons.setdefault(
                    id(node),
                    f"{function.name} stays on flytekit for the reason given at its definition; this goes with it",
                )
    for node in ast.walk(tree):
        if id(node) in plan.reasons or not isinstance(node, ast.Name | ast.Attribute):
            continue
        qualified = names.qualified(node)
        if qualified is None:
            continue
        if qualified in _FILE or qualified in _DIR:
            plan.reasons.setdefault(
                id(node),
                "FlyteFile and FlyteDirectory migrate as bare types in a moving task's or workflow's signature, "
                "FlyteFile(path=<local path>) returned from a task, and download(); not here",
            )
        elif (member := _member(qualified)) is not None:
            plan.reasons.setdefault(
                id(node),
                f"{member} has no exact Flyte 2 form this codemod writes (only FlyteFile(path=<local path>) "
                "and download() on a parameter do)",
            )
        elif _formatted(qualified):
            plan.reasons.setdefault(id(node), _FORMAT_REASON.format(name=qualified.rpartition(".")[2]))
        elif qualified in _CONTEXT:
            plan.reasons.setdefault(id(node), _CONTEXT_REASON.format(why=_context_why(node, parents)))
    return plan


def _formatted(qualified: str) -> bool:
    """A format-typed alias of flytekit's (`flytekit.types.file.CSVFile`)."""
    for package in _FORMATTED_PACKAGES:
        rest = qualified.removeprefix(package)
        if rest != qualified and "." not in rest and rest not in ("FlyteFile", "FlyteDirectory", "file", "types"):
            return True
    return False


def _member(qualified: str) -> str | None:
    """`FlyteFile.new_remote_file` for a member of FlyteFile or FlyteDirectory."""
    for whole in (*_FILE, *_DIR):
        if qualified.startswith(whole + "."):
            return f"{whole.rpartition('.')[2]}{qualified.removeprefix(whole)}"
    return None


def _context_why(node: ast.AST, parents: Mapping[int, ast.AST]) -> str:
    call = parents.get(id(node))
    attribute = parents.get(id(call)) if isinstance(call, ast.Call) else None
    if isinstance(attribute, ast.Attribute) and attribute.attr == "working_directory":
        return "this read is not one (a helper function, module level, a second read, or a loop)"
    if isinstance(attribute, ast.Assign):
        return (
            "ctx = current_context() goes only when ctx is bound once and read once, as ctx.working_directory, "
            "and the statement has its line to itself (no comment) in a block that keeps another statement"
        )
    return (
        "flyte.ctx() (a TaskContext) has no secrets.get (Flyte 2 mounts each secret as an env var or file "
        "named on flyte.Secret), and its action ids are not flytekit's execution_id"
    )


class _FunctionPlan:
    def __init__(
        self,
        *,
        function: ast.FunctionDef | ast.AsyncFunctionDef,
        kind: str,
        names: ModuleNames,
        parents: Mapping[int, ast.AST],
        segment: Callable[[Span], str],
        tasks: frozenset[str],
        free: Mapping[str, str],
        spelled: Mapping[str, str],
        lines: Sequence[str],
    ) -> None:
        self.function, self.kind, self.names = function, kind, names
        self.parents, self.segment, self.tasks, self.free = parents, segment, tasks, free
        self.lines, self.spelled = lines, spelled
        # Names bound once by `ctx = current_context()` and read only as `ctx.working_directory`.
        self.contexts: dict[str, ast.Assign] = {}
        self.sync_task = kind == "task" and isinstance(function, ast.FunctionDef)
        self.edits: dict[tuple[str, str, int], str] = {}
        self.consumed: list[ast.AST] = []
        self.needs: set[str] = set()
        # Parameters whose value is a FlyteFile ("File") or FlyteDirectory ("Dir"), bare or in a container.
        self.bare: dict[str, str] = {}
        self.contained: set[str] = set()

    # -- the walk --------------------------------------------------------------------------------

    def _body(self) -> Iterator[ast.AST]:
        for stmt in self.function.body:
            yield from ast.walk(stmt)

    def _refuse(self, node: ast.AST, construct: str, reason: str, flytekit: ast.AST | None = None) -> _RefusedError:
        return _RefusedError(IoUse(getattr(node, "lineno", self.function.lineno), construct, reason), flytekit)

    def _kind_of(self, node: ast.AST) -> str | None:
        if not isinstance(node, ast.Name | ast.Attribute):
            return None
        qualified = self.names.qualified(node)
        if qualified in _FILE:
            return "File"
        if qualified in _DIR:
            return "Dir"
        return None

    def plan(self) -> tuple[dict[tuple[str, str, int], str], list[ast.AST], set[str]]:
        args = self.function.args
        every = [*args.posonlyargs, *args.args, *args.kwonlyargs]
        for extra in (args.vararg, args.kwarg):
            if extra is not None and extra.annotation is not None and self._io_names(extra.annotation):
                raise self._refuse(extra, f"*{extra.arg}", "a variadic parameter typed FlyteFile/FlyteDirectory")
        positional = [*args.posonlyargs, *args.args]
        defaulted = {a.arg for a in positional[len(positional) - len(args.defaults) :]}
        defaulted |= {a.arg for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d is not None}
        for arg in every:
            if arg.annotation is not None:
                kind = self._annotation(arg.annotation, f"param:{arg.arg}")
                if kind is not None and arg.arg in defaulted:
                    raise self._refuse(
                        arg,
                        arg.arg,
                        f"the parameter {arg.arg} typed FlyteFile/FlyteDirectory has a default value: flytekit "
                        "turns a str default into a blob, Flyte 2 refuses a str where a File is expected, and "
                        "no other default is proven to give the same literal",
                        self._io_names(arg.annotation)[0],
                    )
                if kind in ("File", "Dir"):
                    self.bare[arg.arg] = kind
                elif kind == "contained":
                    self.contained.add(arg.arg)
        if self.function.returns is not None:
            self._annotation(self.function.returns, "returns")
        self._values()
        self._returns()
        return self.edits, self.consumed, self.needs

    def _outputs(self) -> list[ast.expr]:
        """The task's outputs: the return annotation, or the elements of a `tuple[...]` one."""
        returns = self.function.returns
        assert returns is not None
        if self._is_tuple(returns):
            assert isinstance(returns, ast.Subscript)
            return list(returns.slice.elts) if isinstance(returns.slice, ast.Tuple) else [returns.slice]
        return [returns]

    def _is_tuple(self, node: ast.expr) -> bool:
        if not isinstance(node, ast.Subscript):
            return False
        value = node.value
        if isinstance(value, ast.Name) and value.id == "tuple" and "tuple" not in self.names.bindings:
            return True
        return self.names.qualified(value) == "typing.Tuple"

    def _returns(self) -> None:
        """In a task, every value returned where the output is a FlyteFile/FlyteDirectory must be one:
        flytekit also takes a str or os.PathLike there, Flyte 2's transformer raises
        "Expected File object" for anything but a File."""
        returns = self.function.returns
        if self.kind != "task" or returns is None or not self._io_names(returns):
            return
        outputs = self._outputs()
        for node in self._body():
            if not isinstance(node, ast.Return) or self._scope(node) is not self.function:
                continue
            value = node.value
            values: list[ast.expr | None]
            if len(outputs) > 1 or self._is_tuple(returns):
                values = list(value.elts) if isinstance(value, ast.Tuple) else [None] * len(outputs)
            else:
                values = [value]
            if len(values) != len(outputs):
                values = [None] * len(outputs)
            for output, returned in zip(outputs, values, strict=True):
                if self._io_names(output) and (returned is None or not self._file_value(output, returned)):
                    text = self.segment(span_of(returned or node))
                    raise self._refuse(
                        node,
                        f"return {text}",
                        f"{text} is returned where the task declares {self.segment(span_of(output))}: flytekit "
                        "turns a str or os.PathLike into a file there, Flyte 2 raises for anything but a "
                        "File/Dir; return FlyteFile(path=...) (or a parameter of that type)",
                    )

    def _scope(self, node: ast.AST) -> ast.AST | None:
        scope = self.parents.get(id(node))
        while scope is not None and not isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            scope = self.parents.get(id(scope))
        return scope

    def _file_value(self, output: ast.expr, value: ast.expr) -> bool:
        """Whether `value` is a FlyteFile/FlyteDirectory of the output's type."""
        kind = self._kind_of(output)
        if kind is None:
            # A container: only a parameter of the same annotation, passed along.
            args = self.function.args
            same = {
                a.arg
                for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]
                if a.annotation is not None and self.segment(span_of(a.annotation)) == self.segment(span_of(output))
            }
            return isinstance(value, ast.Name) and value.id in same
        if isinstance(value, ast.Call):
            return self._kind_of(value.func) == kind
        if isinstance(value, ast.Name):
            if self.bare.get(value.id) == kind:
                return True
            bound = [
                n
                for n in self._body()
                if isinstance(n, ast.Name) and n.id == value.id and not isinstance(n.ctx, ast.Load)
            ]
            assign = self.parents.get(id(bound[0])) if len(bound) == 1 else None
            return (
                isinstance(assign, ast.Assign)
                and isinstance(assign.value, ast.Call)
                and self._kind_of(assign.value.func) == kind
            )
        return False

    def _io_names(self, annotation: ast.expr) -> list[ast.expr]:
        return [n for n in ast.walk(annotation) if isinstance(n, ast.expr) and self._kind_of(n) is not None]

    def _annotation(self, annotation: ast.expr, key: str) -> str | None:
        """Plan the annotation's edit; its kind: File, Dir, contained, or None (no FlyteFile in it)."""
        found = self._io_names(annotation)
        for node in ast.walk(annotation):
            if isinstance(node, ast.Name | ast.Attribute):
                qualified = self.names.qualified(node)
                if qualified is not None and _formatted(qualified) and node not in found:
                    if self._inner(node, annotation):
                        continue
                    name = qualified.rpartition(".")[2]
                    raise self._refuse(node, name, _FORMAT_REASON.format(name=name), node)
        if not found:
            return None
        for node in found:
            parent = self.parents.get(id(node))
            if isinstance(parent, ast.Subscript) and parent.value is node:
                name = self.segment(span_of(parent))
                raise self._refuse(node, name, _FORMAT_REASON.format(name=name), node)
            why = self._container_problem(node, annotation)
            if why is not None:
                raise self._refuse(node, self.segment(span_of(annotation)), why, node)
        for kind in {self._kind_of(n) for n in found}:
            assert kind is not None
            if kind in self.free:
                raise self._refuse(annotation, kind, self.free[kind], found[0])
            self.needs.add(kind)
        text = self._substituted(annotation, {id(n): self.spelled[str(self._kind_of(n))] for n in found})
        self.edits[(key, self.segment(span_of(annotation)), 0)] = text
        self.consumed.extend(found)
        if len(found) == 1 and found[0] is annotation:
            return self._kind_of(annotation)
        return "contained"

    def _inner(self, node: ast.AST, annotation: ast.expr) -> bool:
        """Whether `node` is part of a longer dotted name inside the annotation."""
        parent = self.parents.get(id(node))
        return isinstance(parent, ast.Attribute) and parent is not annotation and _within(parent, annotation)

    def _container_problem(self, node: ast.expr, annotation: ast.expr) -> str | None:
        """Why a FlyteFile inside `annotation` is not in a container whose wire type is the same."""
        child: ast.AST = node
        while child is not annotation:
            parent = self.parents.get(id(child))
            if isinstance(parent, ast.Tuple):
                holder = self.parents.get(id(parent))
                if holder is annotation and annotation is self.function.returns and self._is_tuple(annotation):
                    child = holder  # a task's several outputs, each its own literal
                    continue
                if not (
                    isinstance(holder, ast.Subscript)
                    and holder.slice is parent
                    and self._container(holder.value) in ("dict", "typing.Dict")
                    and len(parent.elts) == 2
                    and parent.elts[1] is child
                    and isinstance(parent.elts[0], ast.Name)
                    and parent.elts[0].id == "str"
                ):
                    return "FlyteFile/FlyteDirectory in a tuple type other than dict[str, ...]'s value"
                child = holder
                continue
            if isinstance(parent, ast.Subscript) and parent.slice is child:
                if parent is annotation and annotation is self.function.returns and self._is_tuple(annotation):
                    child = parent  # `tuple[FlyteFile]`: one output
                    continue
                container = self._container(parent.value)
                if container in ("Optional", "typing.Optional"):
                    return _UNION_REASON
                if container is None or container in ("dict", "typing.Dict"):
                    what = self.segment(span_of(parent.value))
                    return (
                        f"FlyteFile/FlyteDirectory inside {what}[...]: only list and dict[str, ...] "
                        "are proven to keep the wire type"
                    )
                child = parent
                continue
            if isinstance(parent, ast.BinOp) and isinstance(parent.op, ast.BitOr):
                return _UNION_REASON
            return "FlyteFile/FlyteDirectory in an annotation form this codemod does not prove"
        return None

    def _container(self, node: ast.expr) -> str | None:
        if isinstance(node, ast.Name) and node.id in ("list", "dict") and node.id not in self.names.bindings:
            return node.id
        qualified = self.names.qualified(node)
        return qualified if qualified in _CONTAINERS else None

    def _substituted(self, annotation: ast.expr, new: Mapping[int, str]) -> str:
        start = span_of(annotation)
        nodes = sorted((n for n in ast.walk(annotation) if id(n) in new), key=lambda n: span_of(n)[:2])
        out, at = [], (start[0], start[1])
        for n in nodes:
            s = span_of(n)
            out.append(self.segment((at[0], at[1], s[0], s[1])))
            out.append(new[id(n)])
            at = (s[2], s[3])
        out.append(self.segment((at[0], at[1], start[2], start[3])))
        return "".join(out)

    # -- values in the body ---------------------------------------------------------------------

    def _values(self) -> None:
        stores = self._stores()
        for name in [*self.bare, *self.contained]:
            if stores.get(name):
                raise self._refuse(
                    self.function,
                    name,
                    f"the parameter {name}, typed FlyteFile/FlyteDirectory, is bound again in the body",
                )
        self.contexts = self._contexts(stores)
        reads = [n for n in self._body() if self._is_workdir(n)]
        for node in self._body():
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                if node.id in self.bare or node.id in self.contained:
                    self._use(node)
            elif isinstance(node, ast.Call) and self._kind_of(node.func) is not None:
                self._construct(node, stores)
            elif self._is_workdir(node):
                self._workdir(node, reads)
            elif isinstance(node, ast.Attribute) and (member := _member(self.names.qualified(node) or "")):
                raise self._refuse(
                    node,
                    member,
                    f"{member} has no exact Flyte 2 form this codemod writes (only FlyteFile(path=<local path>) "
                    "and download() on a parameter do)",
                    node,
                )

    def _contexts(self, stores: Mapping[str, Sequence[ast.AST]]) -> dict[str, ast.Assign]:
        """The `ctx = current_context()` statements whose name is bound once and read only as
        `ctx.working_directory` (the statement goes, the read becomes `tempfile.mkdtemp()`), on a
        line of its own without comments, in a block that keeps another statement."""
        out: dict[str, ast.Assign] = {}
        for node in self._body():
            if not (
                isinstance(node, ast.Assign)
                and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
                and isinstance(node.value, ast.Call)
                and not node.value.args
                and not node.value.keywords
                and self.names.qualified(node.value.func) in _CONTEXT
            ):
                continue
            name = node.targets[0].id
            loads = [
                n for n in self._body() if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load)
            ]
            if len(stores.get(name, ())) != 1 or not loads:
                continue
            if not all(
                isinstance(p := self.parents.get(id(n)), ast.Attribute) and p.attr == "working_directory" for n in loads
            ):
                continue
            holder = self.parents.get(id(node))
            block = next(
                (
                    b
                    for b in (getattr(holder, f, None) for f in ("body", "orelse", "finalbody"))
                    if isinstance(b, list) and node in b
                ),
                None,
            )
            if block is None or len(block) < 2 or not self._alone(node):
                continue
            out[name] = node
        return out

    def _alone(self, stmt: ast.stmt) -> bool:
        """Whether a statement has its lines to itself, with no comment on them or above them."""
        first, last = stmt.lineno, stmt.end_lineno or stmt.lineno
        if not self.lines or last > len(self.lines):
            return False
        text = self.segment(span_of(stmt))
        whole = "".join(self.lines[first - 1 : last]).strip()
        above = self.lines[first - 2].strip() if first > 1 else ""
        return whole == text.strip() and not above.startswith("#")

    def _stores(self) -> dict[str, list[ast.AST]]:
        out: dict[str, list[ast.AST]] = {}
        for node in self._body():
            if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
                out.setdefault(node.id, []).append(node)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                out.setdefault(node.name, []).append(node)
            elif isinstance(node, ast.alias):
                out.setdefault((node.asname or node.name).partition(".")[0], []).append(node)
        return out

    def _add(self, kind: str, node: ast.AST, new: str) -> None:
        text = self.segment(span_of(node))
        same = sorted(
            (n for n in self._body() if type(n) is type(node) and self.segment(span_of(n)) == text),
            key=lambda n: span_of(n)[:2],
        )
        self.edits[(kind, text, same.index(node))] = new

    def _use(self, node: ast.Name) -> None:
        """A read of a FlyteFile/FlyteDirectory parameter: passed along, downloaded, or refused."""
        parent = self.parents.get(id(node))
        name = node.id
        if isinstance(parent, ast.Attribute) and parent.value is node:
            call = self.parents.get(id(parent))
            if (
                parent.attr == "download"
                and isinstance(call, ast.Call)
                and call.func is parent
                and not call.args
                and not call.keywords
                and name in self.bare
            ):
                if not self.sync_task:
                    raise self._refuse(
                        call, f"{name}.download()", "download() outside a synchronous task body has no form here"
                    )
                self._add("call", call, "download_sync")
                return
            reason = {"path": _PATH_REASON, "remote_source": _REMOTE_SOURCE_REASON}.get(
                parent.attr,
                f"FlyteFile/FlyteDirectory.{parent.attr} has no Flyte 2 counterpart this codemod writes "
                "(only download() becomes download_sync())",
            )
            raise self._refuse(parent, f"{name}.{parent.attr}", reason)
        if self._passed_along(node, parent):
            return
        if isinstance(parent, ast.Call) and node in parent.args:
            what = self.segment(span_of(parent.func))
            if what in ("open", "os.fspath", "str", "Path", "pathlib.Path", "os.path.exists", "os.listdir"):
                raise self._refuse(node, f"{what}({name})", _PATHLIKE_REASON)
        raise self._refuse(
            node,
            name,
            f"{name} (a FlyteFile/FlyteDirectory) is used other than passed along or downloaded with "
            "download(), which alone have exact Flyte 2 forms",
        )

    def _passed_along(self, node: ast.AST, parent: ast.AST | None) -> bool:
        if isinstance(parent, ast.Return):
            return True
        if isinstance(parent, ast.Tuple) and isinstance(self.parents.get(id(parent)), ast.Return):
            return True
        if isinstance(parent, ast.keyword):
            parent = self.parents.get(id(parent))
        if isinstance(parent, ast.Call) and parent.func is not node:
            return self.kind == "workflow" or (isinstance(parent.func, ast.Name) and parent.func.id in self.tasks)
        return False

    def _construct(self, call: ast.Call, stores: Mapping[str, Sequence[ast.AST]]) -> None:
        """`FlyteFile(path=x)` / `FlyteDirectory(path=x)` in a task body."""
        kind = self._kind_of(call.func)
        assert kind is not None
        spelled = self.segment(span_of(call.func))
        construct = f"{spelled}(...)"
        if not self.sync_task:
            raise self._refuse(
                call, construct, f"{spelled}(...) outside a synchronous task body has no form here", call.func
            )
        given = [*call.args, *(k.value for k in call.keywords if k.arg == "path")]
        if len(given) != 1 or len(call.args) + len(call.keywords) != 1 or any(k.arg is None for k in call.keywords):
            raise self._refuse(
                call,
                construct,
                f"{spelled}(...) with arguments other than the one path (remote_path=, downloader=, ...) "
                "has no exact Flyte 2 form",
                call.func,
            )
        path = given[0]
        why = self._returned_at_once(call, stores)
        if why is None:
            why = self._local(path, stores, depth=0)
        if why is not None:
            raise self._refuse(call, construct, why, call.func)
        if kind in self.free:
            raise self._refuse(call, construct, self.free[kind], call.func)
        self.needs.add(kind)
        self._add("call", call, f"{self.spelled[kind]}.from_local_sync")
        self.consumed.append(call)

    def _returned_at_once(self, call: ast.Call, stores: Mapping[str, Sequence[ast.AST]]) -> str | None:
        parent = self.parents.get(id(call))
        if isinstance(parent, ast.Tuple):
            parent = self.parents.get(id(parent))
        if isinstance(parent, ast.Return):
            return None
        later = (
            "flytekit reads the path when the task returns, File.from_local_sync when it is called: "
            "only a value returned at once (return FlyteFile(...), or name = FlyteFile(...) followed by "
            "return name) is proven to see the same content"
        )
        if not isinstance(parent, ast.Assign) or len(parent.targets) != 1:
            return later
        if not isinstance(parent.targets[0], ast.Name):
            return later
        target = parent.targets[0].id
        if len(stores.get(target, ())) != 1:
            return later
        holder = self.parents.get(id(parent))
        body = next(
            (
                b
                for b in (getattr(holder, f, None) for f in ("body", "orelse", "finalbody"))
                if isinstance(b, list) and parent in b
            ),
            None,
        )
        if body is None:
            return later
        following = body[body.index(parent) + 1] if body.index(parent) + 1 < len(body) else None
        if not isinstance(following, ast.Return) or following.value is None:
            return later
        value = following.value
        elts = value.elts if isinstance(value, ast.Tuple) else [value]
        if not any(isinstance(e, ast.Name) and e.id == target for e in elts):
            return later
        reads = [n for n in self._body() if isinstance(n, ast.Name) and n.id == target and isinstance(n.ctx, ast.Load)]
        if len(reads) != 1:
            return later
        return None

    def _local(self, node: ast.AST, stores: Mapping[str, Sequence[ast.AST]], *, depth: int) -> str | None:
        """None when `node` is shown to be a local path; else why not."""
        not_shown = (
            "the path is not shown to be local here (flytekit passes a remote URI on by reference; "
            "File.from_local_sync refuses it): write it from the working directory, a literal local path, "
            "os.path.join or Path(...) / ... of one"
        )
        if depth > 10:
            return not_shown
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if "://" in node.value:
                return (
                    f"{node.value!r} is a remote URI: flytekit passes it on by reference, and "
                    "File.from_existing_remote is not proven to give the same literal"
                )
            return None
        if isinstance(node, ast.JoinedStr) and node.values:
            first = node.values[0]
            if isinstance(first, ast.Constant):
                return self._local(first, stores, depth=depth + 1)
            if isinstance(first, ast.FormattedValue) and first.format_spec is None and first.conversion == -1:
                return self._local(first.value, stores, depth=depth + 1)
            return not_shown
        if self._is_workdir(node):
            return None
        if isinstance(node, ast.Call):
            func = self.names.qualified(node.func) or self.segment(span_of(node.func))
            if func in ("tempfile.mkdtemp",) and not node.args and not node.keywords:
                return None
            if func in ("os.path.join", "str", "os.fspath", "pathlib.Path", "Path", "os.path.abspath") and node.args:
                if func == "Path" and "Path" in self.names.bindings:
                    return not_shown
                return self._local(node.args[0], stores, depth=depth + 1)
            if (
                isinstance(node.func, ast.Attribute)
                and node.func.attr == "download"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id in self.bare
            ):
                return None
            return not_shown
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            return self._local(node.left, stores, depth=depth + 1)
        if isinstance(node, ast.Name):
            bound = stores.get(node.id, ())
            if len(bound) != 1:
                return not_shown
            assign = self.parents.get(id(bound[0]))
            if isinstance(assign, ast.Assign) and len(assign.targets) == 1 and assign.targets[0] is bound[0]:
                return self._local(assign.value, stores, depth=depth + 1)
            return not_shown
        return not_shown

    # -- the working directory -----------------------------------------------------------------------

    def _is_workdir(self, node: ast.AST) -> bool:
        if not isinstance(node, ast.Attribute) or node.attr != "working_directory":
            return False
        if isinstance(node.value, ast.Name):
            return node.value.id in self.contexts
        return (
            isinstance(node.value, ast.Call)
            and not node.value.args
            and not node.value.keywords
            and self.names.qualified(node.value.func) in _CONTEXT
        )

    def _workdir(self, node: ast.AST, reads: Sequence[ast.AST]) -> None:
        assert isinstance(node, ast.Attribute)
        assign = self.contexts.get(node.value.id) if isinstance(node.value, ast.Name) else None
        call = node.value if assign is None else assign.value
        assert isinstance(call, ast.Call)
        func = call.func
        text = self.segment(span_of(node))
        if not self.sync_task:
            raise self._refuse(node, text, _CONTEXT_REASON.format(why="this is not one"), func)
        if len(reads) != 1:
            why = f"this task reads it {len(reads)} times, and each tempfile.mkdtemp() is another directory"
            raise self._refuse(node, text, _CONTEXT_REASON.format(why=why), func)
        scope = self.parents.get(id(node))
        while scope is not None and scope is not self.function:
            if isinstance(scope, _LOOPS):
                why = "this read is inside a loop, comprehension, lambda or nested function"
                raise self._refuse(node, text, _CONTEXT_REASON.format(why=why), func)
            scope = self.parents.get(id(scope))
        if "tempfile" in self.free:
            raise self._refuse(node, text, _CONTEXT_REASON.format(why=self.free["tempfile"]), func)
        self.needs.add("tempfile")
        self._add("attribute", node, "tempfile.mkdtemp()")
        self.consumed.append(node)
        if assign is not None:
            self._add("statement", assign, "")
            self.consumed.append(assign.value)


def _within(node: ast.AST, outer: ast.AST) -> bool:
    s, o = span_of(node), span_of(outer)
    return (o[0], o[1]) <= (s[0], s[1]) and (s[2], s[3]) <= (o[2], o[3])


def rewrite_function(
    function: cst.FunctionDef, edits: Mapping[tuple[str, str, int], str], module: cst.Module
) -> cst.FunctionDef:
    """`function` with `edits` (planned by `plan_io`) applied to its parameters' annotations, its
    return annotation and its body; every edit must be found (a miss fails the file)."""
    done: set[tuple[str, str, int]] = set()
    counts: dict[tuple[str, str], int] = {}

    def code(node: cst.CSTNode) -> str:
        if isinstance(node, cst.BaseExpression):
            node = node.with_changes(lpar=(), rpar=())
        return module.code_for_node(node)

    def planned(kind: str, node: cst.CSTNode) -> str | None:
        text = code(node)
        n = counts.get((kind, text), 0)
        counts[(kind, text)] = n + 1
        new = edits.get((kind, text, n))
        if new is not None:
            done.add((kind, text, n))
        return new

    def parsed(text: str) -> cst.BaseExpression:
        return cst.parse_expression(text, config=module.config_for_parsing)

    class _Edits(cst.CSTTransformer):
        # The original nodes are keyed (counted in source order, as `plan_io` counted them); the
        # new ones are built from the updated nodes, so edits inside an edited call stay.
        def __init__(self) -> None:
            super().__init__()
            self.new: dict[int, str] = {}

        def visit_Call(self, node: cst.Call) -> None:  # noqa: N802 - libcst's name
            new = planned("call", node)
            if new is not None:
                self.new[id(node)] = new

        def visit_Attribute(self, node: cst.Attribute) -> None:  # noqa: N802 - libcst's name
            new = planned("attribute", node)
            if new is not None:
                self.new[id(node)] = new

        def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:  # noqa: N802
            new = self.new.get(id(original))
            if new is None:
                return updated
            if new == "download_sync":  # f.download() -> f.download_sync()
                assert isinstance(updated.func, cst.Attribute)
                return updated.with_changes(func=updated.func.with_changes(attr=cst.Name(new)))
            # FlyteFile(path=x) -> File.from_local_sync(x)
            arg = updated.args[0].with_changes(keyword=None, equal=cst.MaybeSentinel.DEFAULT)
            return updated.with_changes(func=parsed(new), args=[arg])

        def leave_SimpleStatementLine(  # noqa: N802 - libcst's name
            self, original: cst.SimpleStatementLine, updated: cst.SimpleStatementLine
        ) -> cst.SimpleStatementLine | cst.RemovalSentinel:
            # `ctx = current_context()`, whose one read became `tempfile.mkdtemp()`, goes.
            single = len(original.body) == 1 and isinstance(original.body[0], cst.Assign)
            if single and planned("statement", original.body[0]) == "":
                return cst.RemovalSentinel.REMOVE
            return updated

        def leave_Attribute(self, original: cst.Attribute, updated: cst.Attribute) -> cst.BaseExpression:  # noqa: N802
            new = self.new.get(id(original))
            if new is None:
                return updated
            return parsed(new).with_changes(lpar=updated.lpar, rpar=updated.rpar)

    def annotated(annotation: cst.Annotation | None, kind: str) -> cst.Annotation | None:
        if annotation is None:
            return None
        new = planned(kind, annotation.annotation)
        if new is None:
            return annotation
        value = parsed(new).with_changes(lpar=annotation.annotation.lpar, rpar=annotation.annotation.rpar)
        return annotation.with_changes(annotation=value)

    params = function.params

    def param(p: cst.Param) -> cst.Param:
        return p.with_changes(annotation=annotated(p.annotation, f"param:{p.name.value}"))

    params = params.with_changes(
        posonly_params=[param(p) for p in params.posonly_params],
        params=[param(p) for p in params.params],
        kwonly_params=[param(p) for p in params.kwonly_params],
    )
    returns = annotated(function.returns, "returns")
    body = function.body.visit(_Edits())
    missing = set(edits) - done
    if missing:
        raise ValueError(f"an edit of FlyteFile/FlyteDirectory/working_directory was not found: {sorted(missing)[0]}")
    assert isinstance(body, cst.BaseSuite)
    return function.with_changes(params=params, returns=returns, body=body)


def _imported(stmt: cst.BaseStatement) -> tuple[str, bool] | None:
    """(module, is `from x import`) of an absolute top-level import statement."""
    if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
        return None
    node = stmt.body[0]
    if isinstance(node, cst.Import):
        return cst.Module([]).code_for_node(node.names[0].name), False
    if isinstance(node, cst.ImportFrom) and node.module is not None and not node.relative:
        return cst.Module([]).code_for_node(node.module), True
    return None


def _block(body: Sequence[cst.BaseStatement], index: int) -> tuple[int, int]:
    """The first and last index of the import block (no blank line between) holding `index`."""
    start = index
    while start > 0 and not getattr(body[start], "leading_lines", ()) and _imported(body[start - 1]) is not None:
        start -= 1
    end = index
    while end + 1 < len(body) and not getattr(body[end + 1], "leading_lines", ()) and _imported(body[end + 1]):
        end += 1
    return start, end


def import_inserts(
    body: Sequence[cst.BaseStatement], *, stdlib: frozenset[str], sdk: Sequence[str]
) -> dict[str, tuple[int, bool] | None]:
    """Where `import tempfile` (in the standard library's block) and `from flyte.io import ...`
    (in the block of the flytekit import, `sdk` its packages) go as isort orders them (`import x`
    first, then `from x import`, by module): the index of the statement each goes before, and
    whether it opens its block (it then takes the blank lines above that statement); None when
    there is no such block. `sdk` is the start of the flytekit import's block."""
    out: dict[str, tuple[int, bool] | None] = {"tempfile": None, "flyte.io": None, "sdk": None}
    wanted = {"tempfile": ((False, "tempfile"), stdlib), "flyte.io": ((True, "flyte.io"), frozenset(sdk))}
    for key, (mine, packages) in wanted.items():
        for index, stmt in enumerate(body):
            named = _imported(stmt)
            if named is None or named[0].partition(".")[0] not in packages:
                continue
            start, end = _block(body, index)
            if key == "flyte.io":
                out["sdk"] = (start, True)
            for at in range(start, end + 1):
                module, is_from = _imported(body[at]) or ("", True)
                if (is_from, module.lower()) > mine:
                    out[key] = (at, at == start)
                    break
            else:
                out[key] = (end + 1, False)
            break
    return out
