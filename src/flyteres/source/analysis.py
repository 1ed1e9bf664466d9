"""Read a module's task declarations, flytekit's and Flyte 2's, with the standard `ast` only.

The module is never imported. Names are resolved through its own imports
(`from flytekit import Resources as R`, `import flyte as fl`, ...) and
module-level constants (`flyteres.source.names`); anything that needs running
code is reported with the reason instead of guessed
(`flyteres.source.values`). `SourceModule` parses a module once and holds
everything found in it (`flyteres.source.model`): flytekit's declarations
(`found`), Flyte 2's environments, tasks and overrides, every task and
workflow, and the calls between them. `flyteres check`, `flyteres verify` and
`flyteres migrate` all read modules through it; only the codemod loads libcst,
to edit what this model found (`flyteres.migrate.cst_index`).

`find_declarations` is the public view: one `Declaration` per place that sets
resources.
"""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Sequence
from functools import cached_property

from flyteres._errors import FlyteresError
from flyteres.core.spec import ResourceSpec
from flyteres.source.flyte2 import FlyteFinder
from flyteres.source.flyte_resources import FlyteReader, FlyteSpec
from flyteres.source.flytekit import FlytekitFinder, arguments_of, is_simple_string
from flyteres.source.model import (
    Argument,
    Declaration,
    DeclarationKind,
    FlyteEnvironment,
    FlyteOverride,
    FlyteTask,
    Found,
    SourceParseError,
    TaskCall,
    TaskDef,
    Texts,
    evaluate_spec,
    flytekit_kwargs,
)
from flyteres.source.names import LocalNames, ModuleNames, dotted_name, name_uses
from flyteres.source.pod_templates import TemplateResources, read_pod_template, under_template
from flyteres.source.text import SourceText
from flyteres.source.values import Evaluator, shorten
from flyteres.source.walk import Walk

__all__ = [
    "TEMPLATE_UNKNOWN",
    "Declaration",
    "DeclarationKind",
    "Found",
    "SourceModule",
    "SourceParseError",
    "evaluate_spec",
    "find_declarations",
    "flytekit_kwargs",
    "parse_module",
]

_FLYTEKIT_TASKS = ("task", "dynamic", "eager", "workflow")
# Why a flytekitplugins-pod `Pod(...)` is reported, not read.
_POD_PLUGIN = (
    "flytekitplugins-pod is deprecated and not installed here to replay its serializer; "
    "flytekit's pod_template=PodTemplate(...) is read"
)
_SDKS = frozenset({"flytekit", "union", "unionai", "flyte"})
#: How a Flyte 2 declaration's note starts when its pod template cannot be read statically (its
#: resources, when it has any, add to the declaration's): `flyteres check` prints it.
TEMPLATE_UNKNOWN = "the pod template's own resources are not known"


def parse_module(source: str, path: str = "<string>") -> ast.Module:
    """The module's `ast`, or `SourceParseError` with the running Python's reason."""
    try:
        return ast.parse(source, filename=path)
    except SyntaxError as exc:
        raise SourceParseError(path, exc.lineno, exc.msg) from None
    except (ValueError, RecursionError, MemoryError) as exc:  # NUL bytes; nesting beyond the parser
        raise SourceParseError(path, None, str(exc) or type(exc).__name__) from None


class SourceModule:
    """One parsed module and everything `flyteres.source` found in it."""

    def __init__(self, source: str, path: str = "<string>", *, tree: ast.Module | None = None) -> None:
        self.source = source
        self.path = path
        self.tree = tree if tree is not None else parse_module(source, path)
        self.text = SourceText(source)
        self.names = ModuleNames(self.tree)
        self.walk = Walk(self.tree, source, self.names.tops)
        self.values = Evaluator(self.text, self.names, frozenset(self.walk.globals))
        self.flyte_reader = FlyteReader(self.values)
        #: Names bound in enclosing functions and classes: `local_names(site.scopes)`.
        self.local_names = LocalNames()
        self._declarations: dict[int, Declaration] = {}
        self._env_specs: dict[int, tuple[FlyteSpec, str | None]] = {}
        #: flytekit's declarations, in source order.
        self.found: list[Found] = FlytekitFinder(self.text, self.names, self.values, self.local_names).find(
            self.walk.calls
        )
        self._flyte = FlyteFinder(self.text, self.names, self.values, self.flyte_reader, self.local_names)
        # Flyte 2 is read where the module imports flyte, or uses what looks like it: an
        # environment imported from another module (`from .envs import env` and `@env.task`).
        if (
            self.names.sdk_imported()[1]
            or any(_env_task(d) for f in self.walk.functions for d in f.node.decorator_list)
            or any(
                isinstance(s.call.func, ast.Attribute) and s.call.func.attr in ("override", "clone_with")
                for s in self.walk.calls
            )
        ):
            self._flyte.find(self.walk.calls, self.walk.functions)
        #: Flyte 2's environments, tasks and overrides, in source order.
        self.environments: list[FlyteEnvironment] = self._flyte.environments
        self.flyte_tasks: list[FlyteTask] = self._flyte.tasks
        self.overrides: list[FlyteOverride] = self._flyte.overrides

    # -- what a rewrite needs about the whole module ---------------------------------------------

    @cached_property
    def name_uses(self) -> Counter[str]:
        """How often each name is used (read or written) anywhere in the module."""
        return name_uses(self.tree)

    @cached_property
    def quote(self) -> str | None:
        """The quote character of the module's first plain string literal, if any."""
        best: tuple[int, int] | None = None
        quote: str | None = None
        stack: list[ast.AST] = [self.tree]
        while stack:
            node = stack.pop()
            # An f-string counts only when a plain literal is glued in front of it (`"a" f"{b}"`).
            if not isinstance(node, ast.JoinedStr) and not (
                isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes))
            ):
                stack.extend(ast.iter_child_nodes(node))
                continue
            pos = (node.lineno, node.col_offset)
            q = self.text.quote_at(*pos)
            if q is not None and (best is None or pos < best):
                best, quote = pos, q
            if isinstance(node, ast.JoinedStr):
                stack.extend(v.value for v in node.values if isinstance(v, ast.FormattedValue))
        return quote

    @cached_property
    def environment_names(self) -> frozenset[str]:
        """The `name=` of every `TaskEnvironment(...)` call written in the module."""
        out: set[str] = set()
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Call):
                func = node.func
                last = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
                if last == "TaskEnvironment":
                    for k in node.keywords:
                        if k.arg == "name" and is_simple_string(self.text, k.value):
                            out.add(str(k.value.value))  # type: ignore[attr-defined]  # a Constant, checked
        return frozenset(out)

    # -- tasks ----------------------------------------------------------------------------------

    @cached_property
    def tasks(self) -> list[TaskDef]:
        """Every task and flytekit workflow defined with a decorator, in source order."""
        by_function = {id(f.site.function): f for f in self.found if f.site.function is not None}
        flyte = {id(t.function): t for t in self.flyte_tasks}
        out: list[TaskDef] = []
        for site in self.walk.functions:
            node = site.node
            if id(node) in flyte:
                task = flyte[id(node)]
                template = _keyword(task.decorator, "pod_template")
                out.append(TaskDef(node.name, "flyte", "task", node, site.scopes, flyte=task, pod_template=template))
                continue
            for decorator in node.decorator_list:
                target = decorator.func if isinstance(decorator, ast.Call) else decorator
                kind = self.names.canonical(target)
                if kind in _FLYTEKIT_TASKS:
                    found = by_function.get(id(node))
                    template = _keyword(decorator, "pod_template") or self._pod_plugin_config(decorator)
                    out.append(TaskDef(node.name, "flytekit", kind, node, site.scopes, found, pod_template=template))
                    break
        return out

    def _pod_plugin_config(self, decorator: ast.expr) -> ast.expr | None:
        """`task_config=Pod(...)` of the deprecated flytekitplugins-pod: a pod spec like a template's."""
        config = _keyword(decorator, "task_config")
        if isinstance(config, ast.Call) and (self.names.qualified(config.func) or "").startswith("flytekitplugins.pod"):
            return config
        return None

    def pod_template(self, node: ast.expr | None, scopes: Sequence[ast.AST] = ()) -> TemplateResources | None:
        """The primary container's resources a `pod_template=` value gives (None: no template)."""
        if node is None or (isinstance(node, ast.Constant) and node.value is None):
            return None
        return read_pod_template(self.values, self.names, node, self.local_names(tuple(scopes)))

    def task_template(self, task: TaskDef) -> TemplateResources | None:
        """The pod template a task runs with: its decorator's, else (Flyte 2) its environment's."""
        if task.pod_template is not None:
            return self.pod_template(task.pod_template, task.scopes)
        env = task.flyte.environment if task.flyte is not None else None
        arg = env.arguments.get("pod_template") if env is not None else None
        return None if arg is None else self.pod_template(arg.value, env.site.scopes if env else ())

    def task_calls(self) -> list[TaskCall]:
        """Calls from a task or workflow of the module to another of its tasks, or to a name it
        imports with `from ... import` (a task of another module, perhaps), in source order.
        `t.override(...)(x)`, `t(x).with_overrides(...)`, `flyte.map(t, ...)` and flytekit's
        `map_task(t)(...)` and `t.aio(...)` are calls of `t`; `mod.t(...)` through an imported module is a call of
        `mod.t` (its callee as written)."""
        known = {t.name for t in self.tasks if t.module_level}
        out: list[TaskCall] = []
        for task in self.tasks:
            for node in ast.walk(task.function):
                if not isinstance(node, ast.Call):
                    continue
                func = node.func
                if self.names.flyte(func) == "map" and node.args:
                    func = node.args[0]  # flyte.map(t, ...) and flyte.map(t.override(...), ...) run t
                    while isinstance(func, ast.Call) and isinstance(func.func, ast.Attribute):
                        func = func.func.value
                elif isinstance(func, ast.Call) and self.names.canonical(func.func) == "map_task" and func.args:
                    func = func.args[0]  # flytekit's map_task(t)(...) runs t
                elif isinstance(func, ast.Attribute) and func.attr in ("override", "with_overrides"):
                    continue  # the override itself; the call that runs the task is counted
                while isinstance(func, ast.Call):  # t.override(...)(x)
                    func = func.func
                    if isinstance(func, ast.Attribute) and func.attr == "override":
                        func = func.value
                if isinstance(func, ast.Attribute) and func.attr == "aio" and isinstance(func.value, ast.Name):
                    func = func.value  # Flyte 2's `await t.aio(...)` runs t
                if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name | ast.Attribute):
                    # `etl.extract(...)` through `from . import etl` or `import pkg.etl`: a name of
                    # another module, as written (`etl.extract`), with its qualified name.
                    qualified = self.names.qualified(func)
                    base = self.names.qualified(func.value)
                    if qualified is not None and base is not None and base.partition(".")[0] not in _SDKS:
                        callee = dotted_name(func)
                        if callee is not None:
                            out.append(TaskCall(task.name, callee, node.lineno, node.col_offset, qualified))
                    continue
                if not isinstance(func, ast.Name):
                    continue
                qualified = self.names.imports.get(func.id)
                if func.id in known and func.id != task.name and qualified is None:
                    out.append(TaskCall(task.name, func.id, node.lineno, node.col_offset))
                elif qualified is not None and "." in qualified and qualified.partition(".")[0] not in _SDKS:
                    out.append(TaskCall(task.name, func.id, node.lineno, node.col_offset, qualified))
        return sorted(out, key=lambda c: (c.line, c.col, c.callee))

    # -- Flyte 2 values -------------------------------------------------------------------------

    def environment_spec(self, env: FlyteEnvironment) -> tuple[FlyteSpec, str | None]:
        """The environment's resources (through the environments it clones), and the qualified
        name of an environment of another module they come from, when they do."""
        known = self._env_specs.get(id(env))
        if known is None:
            known = self._env_specs[id(env)] = self._flyte.environment_spec(env)
        return known

    def override_spec(self, override: FlyteOverride) -> FlyteSpec | None:
        """The resources an override sets (None: it keeps the task's)."""
        if override.problem is not None:
            return FlyteSpec(None, override.problem, override.problem in self.flyte_reader.refusals)
        if override.resources is None:
            return None
        return self.flyte_reader.spec(override.resources)

    # -- the public view ------------------------------------------------------------------------

    def declaration(self, found: Found) -> Declaration:
        """The public view of a flytekit declaration (arguments a `**` dict gives read in)."""
        known = self._declarations.get(id(found))
        if known is None:
            known = self._declarations[id(found)] = self._declaration(found)
        return known

    def _declaration(self, found: Found) -> Declaration:
        use = found._expanded or found
        spec, reason = evaluate_spec(use)
        if found.unpack_problem is not None:
            spec, reason = None, found.unpack_problem
        other: dict[str, Argument] = {}
        for i, arg in enumerate(found.other_args):
            other[arg.keyword if arg.keyword is not None else f"{arg.star or '*'}{i}"] = arg
        notes: tuple[str, ...] = ()
        if use.pod_template is not None and found.kind not in (DeclarationKind.WITH_OVERRIDES, DeclarationKind.OTHER):
            if spec is not None and not spec.requests and not spec.limits:
                # No request or limit of its own (a `**` dict that only names the template, say):
                # flytekit leaves the primary container's resources as the template has them (1.4).
                spec, reason, notes = self._template_only(use.pod_template.value, found.site.scopes, spec)
            else:
                # flytekit writes the task's resources over the primary container's (docs/semantics.md, 1.4).
                notes = ("the task's resources replace those of its pod template's primary container",)
        elif found.site.function is not None and any(
            self._pod_plugin_config(d) is not None for d in found.site.function.decorator_list
        ):
            notes = (f"the resources in its Pod task_config's containers are not read ({_POD_PLUGIN})",)
        return Declaration(
            kind=found.kind,
            name=found.name,
            line=found.line,
            notes=notes,
            spec=spec,
            reason=reason,
            arguments=Texts(self.text, use.resource_args),
            other_arguments=Texts(self.text, other),
            path=self.path,
            target=found.target,
        )

    def flyte_declarations(self) -> list[Declaration]:
        """Flyte 2's environments and clones that set resources, and overrides that do."""
        out: list[Declaration] = []
        for env in self.environments:
            template_arg = env.arguments.get("pod_template")
            template = None if template_arg is None else self.pod_template(template_arg.value, env.site.scopes)
            if env.resources is None and env.problem is None and (template is None or not _declares(template)):
                continue
            fs, _ = self.environment_spec(env)
            spec, reason, refused = fs.spec, fs.reason, fs.refused
            notes: tuple[str, ...] = ()
            if template is not None:
                spec, reason, notes, by_template = with_template(fs.spec, fs.reason, template)
                refused = refused or by_template
            given = ("resources", "pod_template") if template is not None else ("resources",)
            args = Texts(self.text, {k: a for k, a in env.arguments.items() if k in given})
            other = Texts(self.text, {k: a for k, a in env.arguments.items() if k not in given})
            out.append(
                Declaration(
                    kind=env.kind,
                    name=env.label,
                    line=env.line,
                    spec=spec,
                    reason=reason,
                    arguments=args,
                    other_arguments=other,
                    path=self.path,
                    refused=refused,
                    tasks=tuple(env.tasks),
                    variable=env.variable,
                    notes=notes,
                )
            )
        out += self.flyte_task_templates()
        for override in self.overrides:
            ofs = self.override_spec(override)
            if ofs is None:
                continue
            args = Texts(self.text, {k: a for k, a in override.arguments.items() if k == "resources"})
            other = Texts(self.text, {k: a for k, a in override.arguments.items() if k != "resources"})
            out.append(
                Declaration(
                    kind=DeclarationKind.OVERRIDE,
                    name=override.target or shorten(self.values.code(override.target_expr)),
                    line=override.line,
                    spec=ofs.spec,
                    reason=ofs.reason,
                    arguments=args,
                    other_arguments=other,
                    path=self.path,
                    target=override.target,
                    refused=ofs.refused,
                )
            )
        return out

    def _template_only(
        self, node: ast.expr, scopes: Sequence[ast.AST], own: ResourceSpec
    ) -> tuple[ResourceSpec | None, str | None, tuple[str, ...]]:
        """A flytekit task without requests or limits: its pod template's primary container's,
        with the task's accelerator and shared memory (those do not go to the container)."""
        template = self.pod_template(node, scopes)
        if template is None:
            return own, None, ()
        if template.spec is None:
            return None, f"pod_template: {template.reason}", ()
        try:
            spec = ResourceSpec(
                requests=template.spec.requests,
                limits=template.spec.limits,
                accelerator=own.accelerator,
                shared_memory=own.shared_memory,
            )
        except FlyteresError as exc:
            return None, f"with its pod template's resources: {exc}", ()
        return spec, None, (f"the resources of the pod template's primary container {template.primary!r}",)

    def flyte_task_templates(self) -> list[Declaration]:
        """Flyte 2 tasks whose own `pod_template=` adds resources to their environment's."""
        out: list[Declaration] = []
        for task in self.tasks:
            if task.flyte is None or task.pod_template is None:
                continue
            template = self.pod_template(task.pod_template, task.scopes)
            if template is None or not _declares(template):
                continue
            env = task.flyte.environment
            spec: ResourceSpec | None
            reason: str | None
            if env is None:
                spec, reason, refused = None, task.flyte.reason or "its environment is defined in another module", False
            else:
                fs, _ = self.environment_spec(env)
                spec, reason, refused = fs.spec, fs.reason, fs.refused
            spec, reason, notes, by_template = with_template(spec, reason, template)
            decorator = task.flyte.decorator
            assert isinstance(decorator, ast.Call)  # it has a pod_template= keyword
            arg = next(a for a in arguments_of(self.text, decorator) if a.keyword == "pod_template")
            out.append(
                Declaration(
                    kind=DeclarationKind.TASK_POD_TEMPLATE,
                    name=task.name,
                    line=decorator.lineno,
                    spec=spec,
                    reason=reason,
                    arguments=Texts(self.text, {"pod_template": arg}),
                    other_arguments={},
                    path=self.path,
                    refused=refused or by_template,
                    tasks=(task.name,),
                    variable=None if env is None else env.variable,
                    notes=notes,
                )
            )
        return out

    def template_declarations(self) -> list[Declaration]:
        """flytekit tasks whose resources come from their pod template alone (P30)."""
        out: list[Declaration] = []
        for task in self.tasks:
            if task.sdk != "flytekit" or task.found is not None or task.pod_template is None:
                continue
            template = self.pod_template(task.pod_template, task.scopes)
            if template is None or (
                template.spec is not None and not template.spec.requests and not template.spec.limits
            ):
                continue
            decorator = next(
                d for d in task.function.decorator_list if isinstance(d, ast.Call) and _has_value(d, task.pod_template)
            )
            assert isinstance(decorator, ast.Call)
            arg = next(a for a in arguments_of(self.text, decorator) if a.value is task.pod_template)
            out.append(
                Declaration(
                    kind=DeclarationKind(task.kind),
                    name=task.name,
                    line=decorator.lineno,
                    spec=template.spec,
                    reason=None if template.reason is None else f"pod_template: {template.reason}",
                    arguments=Texts(self.text, {"pod_template": arg}),
                    other_arguments={},
                    path=self.path,
                    notes=(f"the resources of the pod template's primary container {template.primary!r}",)
                    if template.spec is not None
                    else (),
                )
            )
        return out

    def declarations(self) -> list[Declaration]:
        """Every declaration of either SDK, in source order."""
        out = [self.declaration(f) for f in self.found] + self.flyte_declarations() + self.template_declarations()
        out.sort(key=lambda d: d.line)
        return out


def _declares(template: TemplateResources) -> bool:
    """Whether a pod template gives resources (or may: unknown ones count)."""
    spec = template.spec
    return template.missing or spec is None or bool(spec.requests or spec.limits)


def with_template(
    spec: ResourceSpec | None, reason: str | None, template: TemplateResources
) -> tuple[ResourceSpec | None, str | None, tuple[str, ...], bool]:
    """A Flyte 2 task's resources laid over its pod template's primary container's, as flyte's
    serializer does (docs/semantics.md, rows 33 and 34): the spec, the reason it is not known,
    notes, and whether flyte refuses the template."""
    if template.missing:
        why = (
            f"flyte raises ValueError: no primary container defined in the pod spec; the pod template "
            f"lists none named {template.primary!r}"
        )
        return None, why, (), True
    if spec is None:
        return spec, reason, (), False
    if template.spec is None:
        note = f"{TEMPLATE_UNKNOWN} ({template.reason}); they add to these"
        return spec, reason, (note,), False
    if not template.spec.requests and not template.spec.limits:
        return spec, reason, (), False
    try:
        merged = under_template(template.spec, spec)
    except FlyteresError as exc:
        return None, f"with its pod template's resources: {exc}", (), False
    note = f"the pod template's primary container {template.primary!r} adds its resources; the task's keys win"
    return merged, reason, (note,), False


def _has_value(call: ast.Call, value: ast.expr) -> bool:
    """Whether `value` is one of the call's keyword arguments."""
    return any(k.value is value for k in call.keywords)


def _keyword(decorator: ast.expr, name: str) -> ast.expr | None:
    """A decorator call's keyword argument."""
    if isinstance(decorator, ast.Call):
        return next((k.value for k in decorator.keywords if k.arg == name), None)
    return None


def _env_task(decorator: ast.expr) -> bool:
    """`@x.task` or `@x.task(...)`."""
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    return isinstance(target, ast.Attribute) and target.attr == "task"


def find_declarations(source: str, path: str = "<string>") -> list[Declaration]:
    """Every resource declaration in `source`, flytekit's and Flyte 2's, statically evaluated.

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
    >>> src = '''
    ... import flyte
    ... env = flyte.TaskEnvironment(name="train", resources=flyte.Resources(cpu=(1, 2), gpu="H100:8"))
    ... '''
    >>> d = find_declarations(src)[0]
    >>> d.kind.value, d.name, d.line
    ('environment', 'env', 3)
    >>> d.spec
    ResourceSpec(requests={cpu='1', gpu='8'}, limits={cpu='2'}, accelerator=nvidia-tesla-h100)
    """
    return SourceModule(source, path).declarations()
