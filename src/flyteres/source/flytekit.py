"""flytekit's declarations: `@task(...)` and its kin, `with_overrides`, `ContainerTask`, and the rest.

A call is a declaration when it gives resources (`requests=`, `limits=`,
`resources=`, `accelerator=`, `shared_memory=`), or when it is a task
decorator or `with_overrides` that unpacks keyword arguments (`**kw` may hold
resources). A `**` dict the module defines (`task(**{"requests": R, ...})`,
`KW = dict(limits=...)`) is read too (`Found.unpacked`), but the call keeps its
`problem`: a rewrite cannot move values out of the dict.
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Callable

from flyteres.source.model import Argument, DeclarationKind, Found
from flyteres.source.names import RESOURCE_ARGUMENTS, Local, ModuleNames, dotted_name
from flyteres.source.text import SourceText
from flyteres.source.values import Evaluator, shorten
from flyteres.source.walk import CallSite

__all__ = ["FlytekitFinder", "arguments_of", "is_simple_string"]

_TASK_DECORATORS = ("task", "dynamic", "eager")
_RESOURCES_KEYWORDS = ("requests", "limits", "resources")


def _is_with_overrides(func: ast.expr) -> bool:
    return isinstance(func, ast.Attribute) and func.attr == "with_overrides"


def is_simple_string(text: SourceText, node: ast.expr) -> bool:
    """A string literal written as one literal (not glued to others, not an f-string)."""
    if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
        return False
    raw = text.node(node)
    quote = text.quote_at(node.lineno, node.col_offset)
    if quote is None:
        return False
    prefix = len(raw) - len(raw.lstrip("rRbBuU"))
    body = raw[prefix:]
    delimiter = body[:3] if body[:3] in ('"""', "'''") else body[:1]
    # One literal ends where it started: the closing delimiter is the last thing in the text.
    return body.endswith(delimiter) and body.find(delimiter, len(delimiter)) == len(body) - len(delimiter)


def arguments_of(text: SourceText, call: ast.Call) -> list[Argument]:
    """A call's arguments in source order, each with its source text on demand."""
    out: list[Argument] = []
    spans: list[tuple[int, int, int, int]] | None = None
    opened: tuple[int, int] | bool | None = False

    def code(index: int) -> Callable[[], str]:
        def get() -> str:
            nonlocal spans
            if spans is None:
                spans = text.argument_spans(call)
            return text.segment(spans[index])

        return get

    def value_code(node: ast.expr, positional: bool) -> Callable[[], str]:
        def get() -> str:
            nonlocal opened
            if opened is False:
                opened = text.call_open(call)
            return text.expression(node, opened if positional and isinstance(opened, tuple) else None)

        return get

    for index, arg in enumerate(text.arguments(call)):
        if isinstance(arg, ast.keyword):
            star = "**" if arg.arg is None else ""
            out.append(Argument(arg.arg, star, arg.value, index, call, code(index), value_code(arg.value, False)))
        elif isinstance(arg, ast.Starred):
            out.append(Argument(None, "*", arg.value, index, call, code(index), value_code(arg.value, False)))
        else:
            out.append(Argument(None, "", arg, index, call, code(index), value_code(arg, True)))
    return out


class FlytekitFinder:
    """Builds the `Found` records of one module from the walk's calls."""

    def __init__(
        self,
        text: SourceText,
        names: ModuleNames,
        values: Evaluator,
        local_names: Callable[[tuple[ast.AST, ...]], Local],
    ) -> None:
        self.text = text
        self.names = names
        self.values = values
        self.local_names = local_names
        self._chained: set[int] = set()

    def find(self, calls: list[CallSite]) -> list[Found]:
        """Every flytekit declaration among `calls`, in their order."""
        for site in calls:
            func = site.call.func
            if _is_with_overrides(func):
                assert isinstance(func, ast.Attribute)
                receiver = func.value
                if isinstance(receiver, ast.Call) and _is_with_overrides(receiver.func):
                    self._chained.add(id(receiver))
        out: list[Found] = []
        for site in calls:
            if not self._interesting(site):
                continue
            found = self._declaration(site)
            if found is not None:
                out.append(found)
        return out

    @staticmethod
    def _interesting(site: CallSite) -> bool:
        call = site.call
        return (
            site.function is not None
            or _is_with_overrides(call.func)
            or any(k.arg in RESOURCE_ARGUMENTS for k in call.keywords)
        )

    def _declaration(self, site: CallSite) -> Found | None:
        call = site.call
        canonical_func = self.names.canonical(call.func)
        if site.function is not None and canonical_func in _TASK_DECORATORS:
            kind = DeclarationKind(canonical_func)
            name = site.function.name
        elif _is_with_overrides(call.func):
            kind = DeclarationKind.WITH_OVERRIDES
            name = ""
        elif canonical_func == "ContainerTask":
            kind = DeclarationKind.CONTAINER_TASK
            name = "ContainerTask"
        elif canonical_func == "Resources":
            return None
        else:
            kind = DeclarationKind.OTHER
            name = ""  # its callee's text, read below only if it is kept
            # Decided here, before the arguments are read, as it is below: some unrelated call that
            # takes requests=/limits=/resources= (a Flyte 2 TaskEnvironment or override, an HTTP
            # client...) is a declaration only when one of them is a flytekit Resources(...).
            if not any(k.arg in _RESOURCES_KEYWORDS and self._resources_call(k.value) for k in call.keywords):
                return None
        resource_args: dict[str, Argument] = {}
        other: list[Argument] = []
        problem = None
        for arg in arguments_of(self.text, call):
            if arg.keyword is not None and arg.keyword in RESOURCE_ARGUMENTS:
                resource_args[arg.keyword] = arg
            else:
                other.append(arg)
                if arg.star == "**":
                    problem = f"unpacks keyword arguments ({shorten(arg.code)}); they may hold resources"
        if not resource_args and problem is None:
            return None
        if kind is DeclarationKind.OTHER and not any(
            self._resources_call(a.value) for k, a in resource_args.items() if k in ("requests", "limits", "resources")
        ):
            # Some unrelated call that happens to take requests=/limits= (an HTTP client, a Flyte 2
            # TaskEnvironment...): only a flytekit Resources(...) call makes it a declaration.
            return None
        local = self.local_names(site.scopes)
        found = Found(kind, name, call.lineno, site, resource_args, other, problem=problem)
        self._read(found, resource_args, local)
        if kind is DeclarationKind.OTHER:
            if not any(v.call is not None for _, v in found.resource_values()):
                # Some unrelated call that happens to take requests=/limits= (an HTTP client...).
                return None
            found.name = self.values.code(call.func).strip()
        if kind is DeclarationKind.WITH_OVERRIDES:
            self._override_target(found)
        if kind is DeclarationKind.CONTAINER_TASK:
            name_arg = next((a for a in other if a.keyword == "name"), None)
            if name_arg is not None and is_simple_string(self.text, name_arg.value):
                found.name = str(name_arg.value.value)  # type: ignore[attr-defined]  # a Constant, checked
        found.pod_template = next((a for a in other if a.keyword == "pod_template"), None)
        if problem is not None:
            self._unpack(found, local)
        return found

    def _resources_call(self, node: ast.expr) -> bool:
        """Whether a value is a flytekit `Resources(...)` call, inline or as a module constant
        (what `Evaluator.resources_value` reads into a value with its `call`)."""
        if isinstance(node, ast.Name) and node.id not in self.names.imports:
            bindings = self.names.bindings.get(node.id, ())
            node = bindings[0].value if len(bindings) == 1 and bindings[0].value is not None else node
        return isinstance(node, ast.Call) and self.names.canonical(node.func) == "Resources"

    def _read(self, found: Found, args: dict[str, Argument], local: Local) -> None:
        """The static values of the resource arguments."""
        for key in ("requests", "limits", "resources"):
            if key in args:
                setattr(found, key, self.values.resources_value(args[key].value, local))
        if "accelerator" in args:
            found.accelerator = self.values.accelerator_leaf(args["accelerator"].value, local)
        if "shared_memory" in args:
            found.shared_memory = self.values.leaf(args["shared_memory"].value, local)

    # -- overrides ------------------------------------------------------------------------------

    def _override_target(self, found: Found) -> None:
        func = found.call.func
        assert isinstance(func, ast.Attribute)
        receiver = func.value
        found.name = shorten(self.values.code(receiver).strip())
        if id(found.call) in self._chained or (isinstance(receiver, ast.Call) and _is_with_overrides(receiver.func)):
            found.target_shape = "chained"
            inner = receiver
            while isinstance(inner, ast.Call) and _is_with_overrides(inner.func):
                assert isinstance(inner.func, ast.Attribute)
                inner = inner.func.value
            self._set_target(found, inner)
            return
        self._set_target(found, receiver)

    def _set_target(self, found: Found, receiver: ast.expr) -> None:
        if isinstance(receiver, ast.Call) and isinstance(receiver.func, (ast.Name, ast.Attribute)):
            found.callee = receiver.func
            dotted = dotted_name(receiver.func)
            if dotted is not None and found.target_shape != "chained":
                found.name = dotted  # `mod.task(...)`: named like the task it may be
        first = None
        if isinstance(receiver, ast.Call) and isinstance(receiver.func, ast.Call):
            inner_args = self.text.arguments(receiver.func)
            if inner_args:
                first = inner_args[0].value if isinstance(inner_args[0], (ast.keyword, ast.Starred)) else inner_args[0]
        if isinstance(receiver, ast.Call) and isinstance(receiver.func, ast.Name):
            found.target = receiver.func.id
            found.target_shape = found.target_shape or "task"
        elif (
            isinstance(receiver, ast.Call)
            and isinstance(receiver.func, ast.Call)
            and self.names.canonical(receiver.func.func) == "map_task"
            and isinstance(first, ast.Name)
        ):
            found.target = first.id
            found.target_shape = found.target_shape or "map_task"
            if found.kind is DeclarationKind.WITH_OVERRIDES:
                found.kind = DeclarationKind.MAP_TASK_OVERRIDES
        else:
            found.target_shape = found.target_shape or "other"
        if found.target is not None:
            found.name = found.target

    # -- `**` dicts -----------------------------------------------------------------------------

    def _unpack(self, found: Found, local: Local) -> None:
        """Read the resource arguments a `**` dict of the module gives, into `found.unpacked`."""
        args: dict[str, Argument] = {}
        scopes: dict[str, Local] = {}
        for arg in found.other_args:
            if arg.star != "**":
                continue
            entries, scope, why = self.values.dict_entries(arg.value, local)
            if entries is None:
                found.unpack_problem = f"unpacks keyword arguments ({shorten(arg.code)}): {why}"
                return
            for key, value in entries:
                if key not in RESOURCE_ARGUMENTS and key != "pod_template":
                    continue
                if key in found.resource_args or key in args:
                    found.unpack_problem = f"{key}= is given twice (Python refuses the call)"
                    return
                code = self.values.lazy_code(value)
                args[key] = Argument(key, "", value, -1, found.call, code, code, unpacked_from=shorten(arg.code))
                scopes[key] = local if scope is None else scope
        found.unpacked = args
        expanded = dataclasses.replace(
            found,
            resource_args={**found.resource_args, **{k: v for k, v in args.items() if k != "pod_template"}},
            other_args=[a for a in found.other_args if a.star != "**"],
            problem=None,
            pod_template=args.get("pod_template", found.pod_template),
        )
        for key, arg in args.items():
            if key != "pod_template":
                self._read(expanded, {key: arg}, scopes[key])
        found._expanded = expanded
