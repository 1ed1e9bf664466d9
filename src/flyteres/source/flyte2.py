"""Flyte 2's declarations: environments, the tasks in them, and overrides.

- `flyte.TaskEnvironment(...)` with its arguments in the dataclass's order
  (`name`, `depends_on`, `pod_template`, `description`, `secrets`,
  `env_vars`, `resources`, ...: `TASK_ENVIRONMENT_PARAMETERS`, checked against
  the installed flyte by the tests), and `<env>.clone_with(name, image,
  resources, ...)`, which keeps the base's resources unless it gives new ones.
- `@env.task` and `@env.task(...)`: the function runs in `env` (`@env.task`
  takes no resources). The environment is looked up through the module's
  bindings; an imported one is left to the caller (`FlyteTask.env_qualified`),
  which may know the module that defines it.
- `<task>.override(...)`, wherever it is written (`await t.override(...)(x)`,
  inside loops, in `flyte.map(t.override(...), ...)`): `resources=` replaces
  the task's whole `Resources` (docs/semantics.md, section 2.4).

Values are read by `flyteres.source.flyte_resources`. Names are resolved through
the module's imports, so `import flyte as fl` and `from flyte import
Resources, TaskEnvironment` read the same.
"""

from __future__ import annotations

import ast
from collections.abc import Callable

from flyteres.core.spec import ResourceSpec
from flyteres.source.flyte_resources import FlyteReader, FlyteSpec
from flyteres.source.flytekit import arguments_of, is_simple_string
from flyteres.source.model import Argument, DeclarationKind, FlyteEnvironment, FlyteOverride, FlyteTask
from flyteres.source.names import Local, ModuleNames, dotted_name
from flyteres.source.text import SourceText
from flyteres.source.values import Evaluator, shorten
from flyteres.source.walk import CallSite, FunctionSite

__all__ = ["CLONE_WITH_PARAMETERS", "TASK_ENVIRONMENT_PARAMETERS", "FlyteFinder"]

#: `TaskEnvironment`'s parameters in positional order (Environment's fields, then TaskEnvironment's).
TASK_ENVIRONMENT_PARAMETERS = (
    "name",
    "depends_on",
    "pod_template",
    "description",
    "secrets",
    "env_vars",
    "resources",
    "interruptible",
    "image",
    "include",
    "service_account",
    "cache",
    "reusable",
    "plugin_config",
    "queue",
)
#: `TaskEnvironment.clone_with`'s parameters that may be given positionally, in order.
CLONE_WITH_PARAMETERS = (
    "name",
    "image",
    "resources",
    "env_vars",
    "secrets",
    "depends_on",
    "description",
    "interruptible",
    "include",
    "service_account",
)
# What clone_with takes through **kwargs; anything else raises TypeError.
_CLONE_WITH_EXTRA = ("cache", "reusable")
_MAX_CLONES = 16


class FlyteFinder:
    """Builds one module's Flyte 2 records from the walk."""

    def __init__(
        self,
        text: SourceText,
        names: ModuleNames,
        values: Evaluator,
        reader: FlyteReader,
        local_names: Callable[[tuple[ast.AST, ...]], Local],
    ) -> None:
        self.text = text
        self.names = names
        self.values = values
        self.reader = reader
        self.local_names = local_names
        self.environments: list[FlyteEnvironment] = []
        self.tasks: list[FlyteTask] = []
        self.overrides: list[FlyteOverride] = []
        self._by_call: dict[int, FlyteEnvironment] = {}
        self._task_names: set[str] = set()

    def find(self, calls: list[CallSite], functions: list[FunctionSite]) -> None:
        """Fill `environments`, `tasks` and `overrides`."""
        for site in calls:
            kind = self._environment_kind(site.call)
            if kind is not None:
                self._environment(site, kind)
        # Environments bound at module level are found through their names too, so one
        # written without the words the walk looks for (`TE(name="x")`) is not missed.
        for name, bindings in self.names.bindings.items():
            if len(bindings) == 1 and isinstance(bindings[0].value, ast.Call):
                call = bindings[0].value
                kind = self._environment_kind(call)
                if kind is not None and id(call) not in self._by_call:
                    self._environment(CallSite(call, (), bindings[0].top), kind, variable=name)
        self.environments.sort(key=lambda e: (e.call.lineno, e.call.col_offset))
        for function in functions:
            for decorator in function.node.decorator_list:
                task = self._task(function, decorator)
                if task is not None:
                    self.tasks.append(task)
                    break
        self._task_names = {t.name for t in self.tasks}
        for site in calls:
            func = site.call.func
            if isinstance(func, ast.Attribute) and func.attr == "override":
                override = self._override(site)
                if override is not None:
                    self.overrides.append(override)

    # -- environments ---------------------------------------------------------------------------

    def _environment_kind(self, call: ast.Call) -> DeclarationKind | None:
        if self.names.flyte(call.func) == "TaskEnvironment":
            return DeclarationKind.ENVIRONMENT
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr == "clone_with":
            if self._resolve_environment_expr(func.value) is not None:
                return DeclarationKind.CLONE_WITH
            # An environment another module defines may be a TaskEnvironment; anything this
            # module binds to another call (an AppEnvironment also has clone_with) is not.
            imported = self.names.qualified(func.value)
            if imported is not None and not imported.startswith("flyte.") and self.names.sdk_imported()[1]:
                return DeclarationKind.CLONE_WITH
        return None

    def _environment(self, site: CallSite, kind: DeclarationKind, variable: str | None = None) -> FlyteEnvironment:
        existing = self._by_call.get(id(site.call))
        if existing is not None:
            return existing
        call = site.call
        parameters = TASK_ENVIRONMENT_PARAMETERS if kind is DeclarationKind.ENVIRONMENT else CLONE_WITH_PARAMETERS
        env = FlyteEnvironment(kind, site, {})
        self._by_call[id(call)] = env
        self.environments.append(env)
        if variable is None and not site.scopes:
            parent = site.parent
            if isinstance(parent, (ast.Assign, ast.AnnAssign)) and parent.value is call:
                targets = parent.targets if isinstance(parent, ast.Assign) else [parent.target]
                if len(targets) == 1 and isinstance(targets[0], ast.Name):
                    variable = targets[0].id
        env.variable = variable
        local = self.local_names(site.scopes)
        if kind is DeclarationKind.CLONE_WITH:
            assert isinstance(call.func, ast.Attribute)
            env.base = call.func.value
        # A clone of an environment of another module may not be a TaskEnvironment's clone: then
        # an argument TaskEnvironment.clone_with does not take is no sure refusal.
        sure = kind is DeclarationKind.ENVIRONMENT or (
            isinstance(call.func, ast.Attribute) and self._resolve_environment_expr(call.func.value) is not None
        )
        env.problem = self._bind(env.arguments, arguments_of(self.text, call), parameters, kind, local, sure=sure)
        name = env.arguments.get("name")
        if name is not None and is_simple_string(self.text, name.value):
            env.name = str(name.value.value)  # type: ignore[attr-defined]  # a Constant, checked
        resources = env.arguments.get("resources")
        if resources is not None:
            env.resources = self.reader.resources_value(resources.value, local)
        return env

    def _bind(
        self,
        out: dict[str, Argument],
        args: list[Argument],
        parameters: tuple[str, ...],
        kind: DeclarationKind,
        local: Local,
        *,
        sure: bool = True,
    ) -> str | None:
        """Map a call's arguments to parameter names; a reason when that cannot be done."""
        callee = "TaskEnvironment.__init__()" if kind is DeclarationKind.ENVIRONMENT else "clone_with()"
        positional = 0
        for arg in args:
            if arg.star == "*":
                return f"unpacks arguments ({shorten(arg.code)})"
            if arg.star == "**":
                entries, _, why = self.values.dict_entries(arg.value, local)
                if entries is None:
                    return f"unpacks keyword arguments ({shorten(arg.code)}): {why}"
                for key, value in entries:
                    code = self.values.lazy_code(value)
                    out[key] = Argument(key, "", value, -1, arg.call, code, code, unpacked_from=shorten(arg.code))
                continue
            if arg.keyword is None:
                if positional >= len(parameters):
                    return f"{callee} takes at most {len(parameters)} positional arguments"
                out[parameters[positional]] = arg
                positional += 1
            elif arg.keyword in out:
                return f"{callee} got multiple values for argument '{arg.keyword}'"
            else:
                out[arg.keyword] = arg
        allowed = parameters if kind is DeclarationKind.ENVIRONMENT else (*parameters, *_CLONE_WITH_EXTRA)
        unknown = [k for k in out if k not in allowed]
        if unknown:
            message = f"{callee} got an unexpected keyword argument '{unknown[0]}'"
            if not sure:
                return f"{message}: the cloned environment is not known to be a TaskEnvironment"
            return self.reader.refused(f"flyte refuses the environment: {message}")
        return None

    def _resolve_environment_expr(self, node: ast.expr, depth: int = 0) -> FlyteEnvironment | None:
        """The environment of this module an expression names (through module constants)."""
        if depth > _MAX_CLONES:
            return None
        if isinstance(node, ast.Call):
            found = self._by_call.get(id(node))
            if found is not None:
                return found
            kind = self._environment_kind(node) if depth < _MAX_CLONES else None
            if kind is not None:
                return self._environment(CallSite(node, (), 0), kind)
            return None
        if isinstance(node, ast.Name):
            bindings = self.names.bindings.get(node.id, [])
            if len(bindings) != 1 or not isinstance(bindings[0].value, ast.Call) or node.id in self.names.imports:
                return None
            call = bindings[0].value
            found = self._by_call.get(id(call))
            if found is not None:
                return found
            if isinstance(call.func, ast.Attribute) and call.func.attr == "clone_with":
                if self._resolve_environment_expr(call.func.value, depth + 1) is None:
                    return None
                return self._environment(CallSite(call, (), bindings[0].top), DeclarationKind.CLONE_WITH, node.id)
            if self.names.flyte(call.func) == "TaskEnvironment":
                return self._environment(CallSite(call, (), bindings[0].top), DeclarationKind.ENVIRONMENT, node.id)
        return None

    def environment_spec(self, env: FlyteEnvironment, depth: int = 0) -> tuple[FlyteSpec, str | None]:
        """The environment's resources and, when they come from an environment another module
        defines, that environment's qualified name (the caller resolves it)."""
        if env.problem is not None:
            return FlyteSpec(None, env.problem, env.problem in self.reader.refusals), None
        if env.resources is not None:
            return self.reader.spec(env.resources), None
        if env.kind is DeclarationKind.ENVIRONMENT:
            return FlyteSpec(ResourceSpec()), None
        assert env.base is not None
        base = self._resolve_environment_expr(env.base)
        if base is None or depth > _MAX_CLONES:
            qualified = self.names.qualified(env.base)
            if qualified is not None:
                return FlyteSpec(None, f"the environment {qualified} is imported"), qualified
            return FlyteSpec(None, f"clones {shorten(self.values.code(env.base))}, which is not known here"), None
        return self.environment_spec(base, depth + 1)

    # -- tasks ----------------------------------------------------------------------------------

    def _task(self, function: FunctionSite, decorator: ast.expr) -> FlyteTask | None:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if not (isinstance(target, ast.Attribute) and target.attr == "task"):
            return None
        receiver = target.value
        env = self._resolve_environment_expr(receiver)
        task = FlyteTask(function.node, decorator, receiver, function.scopes, function.top, env)
        if env is not None:
            env.tasks.append(task.name)
            return task
        qualified = self.names.qualified(receiver)
        if qualified is not None and qualified.partition(".")[0] in ("flytekit", "union", "unionai", "flyte"):
            return None  # an SDK's own object with a .task (Union's ActorEnvironment is flytekit's kind)
        if qualified is not None:
            task.env_qualified = qualified
            task.reason = f"the environment {qualified} is imported"
            return task
        if not self.names.sdk_imported()[1]:
            return None
        task.reason = f"{shorten(self.values.code(receiver))} is not an environment this module defines"
        return task

    # -- overrides ------------------------------------------------------------------------------

    def _override(self, site: CallSite) -> FlyteOverride | None:
        call = site.call
        func = call.func
        assert isinstance(func, ast.Attribute)
        receiver = func.value
        chained = False
        while (
            isinstance(receiver, ast.Call)
            and isinstance(receiver.func, ast.Attribute)
            and receiver.func.attr == "override"
        ):
            chained = True
            receiver = receiver.func.value
        dotted = dotted_name(receiver)
        local_task = isinstance(receiver, ast.Name) and receiver.id in self._task_names
        if not local_task and not self.names.sdk_imported()[1]:
            return None
        # The task is known by its name: one of this module, or one it imports (`mod.t` too). A
        # local variable, an attribute of one or any other expression names a task only known
        # when the code runs: the override is kept, without a target.
        head = receiver
        while isinstance(head, ast.Attribute):
            head = head.value
        known = (
            dotted is not None
            and isinstance(head, ast.Name)
            and head.id not in self.local_names(site.scopes)
            and (head.id in self._task_names or head.id in self.names.imports)
        )
        target = dotted.rpartition(".")[2] if known and dotted is not None else None
        function = next(
            (s.name for s in reversed(site.scopes) if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))), None
        )
        override = FlyteOverride(site, {}, target, receiver, chained=chained, function=function)
        local = self.local_names(site.scopes)
        for arg in arguments_of(self.text, call):
            if arg.keyword is not None:
                override.arguments[arg.keyword] = arg
            elif arg.star == "**":
                entries, _, why = self.values.dict_entries(arg.value, local)
                if entries is None:
                    override.problem = f"unpacks keyword arguments ({shorten(arg.code)}): {why}"
                    continue
                for key, value in entries:
                    code = self.values.lazy_code(value)
                    override.arguments[key] = Argument(key, "", value, -1, call, code, code, shorten(arg.code))
            else:
                override.problem = self.reader.refused("override() takes keyword arguments only")
        resources = override.arguments.get("resources")
        if resources is not None:
            override.resources = self.reader.resources_value(resources.value, local)
        return override
