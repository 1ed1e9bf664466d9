"""Static values: what an expression of a declaration can evaluate to, without running the module.

Names are resolved through the module's own constants; anything that needs
running code (function arguments, calls, f-strings with names, `**kwargs`,
imported values) gets the reason instead of a guess.

A constant chosen at import time (`MEM = "100Mi" if os.getenv("X") else
"30Gi"`, or assigned in the branches of a module-level `if`) is evaluated to
every value it can take (`Leaf.values`), so a caller can check that all of
them give the same result (`combinations`).

Every value keeps its node (for its position) and its source text as
written, parentheses included (`flyteres.source.text`), computed only when
someone asks for it.
"""

from __future__ import annotations

import ast
import io
import itertools
import tokenize
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flyteres import accelerators
from flyteres._errors import UnknownAcceleratorError
from flyteres.convert._shared import implied_device_class
from flyteres.core.spec import AcceleratorSpec
from flyteres.source.names import POSITIONAL_FIELDS, Local, ModuleNames
from flyteres.source.text import SourceText

__all__ = [
    "MAX_COMBINATIONS",
    "NOT_LITERAL",
    "Combo",
    "Evaluator",
    "FieldValue",
    "Leaf",
    "RawDevice",
    "ResourcesValue",
    "accelerator_argument",
    "combinations",
    "field_value",
    "leaf_value",
    "literal",
    "shorten",
]

# The most values one declaration is evaluated for (each import-time choice
# multiplies them); beyond this the declaration is reported, not converted.
MAX_COMBINATIONS = 64
_MAX_DEPTH = 16
_CODE_SHOWN = 60

#: What `literal` answers for an expression that is not a plain Python literal.
NOT_LITERAL = object()


def literal(node: ast.expr) -> object:
    """The value of a plain literal expression (`"x"`, `3`, `[1, 2]`, `{"k": "v"}`), else `NOT_LITERAL`."""
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return NOT_LITERAL


#: A call's opening parenthesis, for an expression that is one of its positional arguments.
CallOpen = tuple[int, int] | None


@dataclass(frozen=True)
class RawDevice:
    """`GPUAccelerator("<device>")`: a device string as written."""

    device: str


@dataclass(eq=False)
class Leaf:
    """One expression of a declaration and the values it can take.

    `values` has one element for a constant, several for a value chosen at
    import time; `reason` is set (and `values` empty) when it is not static.
    `names` are the module constants the expression reads.
    """

    node: ast.expr | None
    text: str | Callable[[], str]  # the source, or how to get it (most are never shown)
    values: tuple[object, ...]
    reason: str | None = None
    names: frozenset[str] = frozenset()

    @property
    def code(self) -> str:
        """The expression as written, parentheses included."""
        if not isinstance(self.text, str):
            self.text = self.text()
        return self.text

    @property
    def static(self) -> bool:
        return self.reason is None

    @property
    def is_name(self) -> bool:
        return isinstance(self.node, ast.Name)

    @property
    def line(self) -> int:
        return 0 if self.node is None else self.node.lineno


@dataclass(eq=False)
class FieldValue:
    """One `Resources(...)` field: a leaf, or a (request, limit) pair of leaves."""

    whole: Leaf
    parts: tuple[Leaf, Leaf] | None = None
    is_list: bool = False

    def leaves(self) -> tuple[Leaf, ...]:
        return self.parts if self.parts is not None else (self.whole,)


@dataclass(eq=False)
class ResourcesValue:
    """A `requests=`/`limits=`/`resources=` argument: a `Resources(...)` call,
    written inline or through a module constant (`through`)."""

    text: str | Callable[[], str]
    fields: dict[str, FieldValue] = field(default_factory=dict)
    callee_text: str | Callable[[], str] | None = None  # how `Resources` is spelled in the call
    through: str | None = None
    call: ast.Call | None = None
    reason: str | None = None

    @property
    def code(self) -> str:
        if not isinstance(self.text, str):
            self.text = self.text()
        return self.text

    @property
    def callee(self) -> str | None:
        """The called expression as written (`Resources`, `R`, `fk.Resources`), for a call."""
        if self.callee_text is not None and not isinstance(self.callee_text, str):
            self.callee_text = self.callee_text().strip()
        return self.callee_text

    def leaves(self) -> Iterator[Leaf]:
        for fv in self.fields.values():
            yield from fv.leaves()


#: One choice of value for each leaf that can take several, by `id(leaf)`.
Combo = Mapping[int, object]


def leaf_value(leaf: Leaf, combo: Combo) -> object:
    """The leaf's value in one combination (its only value when it has one)."""
    return combo.get(id(leaf), leaf.values[0])


def field_value(fv: FieldValue, combo: Combo) -> object:
    """The field's value in one combination, a pair spelled as it was written (list or tuple)."""
    if fv.parts is None:
        return leaf_value(fv.whole, combo)
    pair = (leaf_value(fv.parts[0], combo), leaf_value(fv.parts[1], combo))
    return list(pair) if fv.is_list else pair


# What a static reader returns: the values an expression can take, or the reason
# it has none, and the module-level names it went through.
_Read = tuple[tuple[object, ...], str | None, set[str]]
_Reader = Callable[[ast.expr, Local, int], _Read]


def _dedupe(values: Sequence[object]) -> tuple[object, ...]:
    # 1, 1.0 and True compare equal in Python but mean different things here.
    seen: dict[tuple[str, str], object] = {}
    for v in values:
        seen.setdefault((type(v).__name__, repr(v)), v)
    return tuple(seen.values())


def shorten(code: str) -> str:
    """Source text on one line, cut to a length a message can show."""
    code = " ".join(code.split())
    return code if len(code) <= _CODE_SHOWN else code[: _CODE_SHOWN - 3] + "..."


def combinations(leaves: Sequence[Leaf]) -> list[dict[int, object]] | None:
    """Every assignment of values to the leaves that can take several; None if too many."""
    varying = [leaf for leaf in leaves if len(leaf.values) > 1]
    total = 1
    for leaf in varying:
        total *= len(leaf.values)
        if total > MAX_COMBINATIONS:
            return None
    return [
        {id(leaf): value for leaf, value in zip(varying, values, strict=True)}
        for values in itertools.product(*(leaf.values for leaf in varying))
    ]


def accelerator_argument(value: object) -> object:
    """What `from_flytekit(accelerator=...)` takes for a statically known accelerator."""
    if isinstance(value, RawDevice):
        try:
            accelerators.from_wire(value.device)
            custom = False
        except UnknownAcceleratorError:
            custom = True
        return AcceleratorSpec(device=value.device, device_class=implied_device_class(value.device), custom=custom)
    return value


class Evaluator:
    """Evaluates a module's expressions statically through its imports and module constants.

    `rebound` are the names a function rebinds with a `global` statement
    (never constant, wherever they are assigned).
    """

    def __init__(self, text: SourceText, names: ModuleNames, rebound: frozenset[str] | set[str]) -> None:
        self.text = text
        self.names = names
        self.rebound = rebound
        # The opening parenthesis of the call each positional argument read so far belongs to:
        # a parenthesis there is the call's, not the argument's (`f(x)` is `x`).
        self._opens: dict[int, tuple[int, int] | None] = {}

    def code(self, node: ast.AST, call_open: CallOpen = None) -> str:
        """A node's source as written, its own parentheses included."""
        return self.text.expression(node, call_open or self._opens.get(id(node)))

    def positional(self, call: ast.Call) -> CallOpen:
        """Note where a call's parenthesis opens, for the text of its positional arguments."""
        if not call.args:
            return None
        opened = self.text.call_open(call)
        for arg in call.args:
            self._opens[id(arg)] = opened
        return opened

    def lazy_code(self, node: ast.AST, call_open: CallOpen = None) -> Callable[[], str]:
        """How to get a node's source when someone asks (most values are never shown)."""
        return lambda: self.code(node, call_open)

    def binding_values(self, name: str) -> tuple[list[ast.expr] | None, str | None]:
        """The expressions a module constant is assigned, or the reason it is not a constant."""
        bindings = self.names.bindings.get(name)
        if not bindings:
            return None, f"{name!r} is not defined in this module"
        if name in self.names.imports:
            return None, f"{name!r} is imported; its value is not known here"
        if name in self.rebound:
            return None, f"{name!r} is reassigned inside a function (global statement)"
        values = [b.value for b in bindings if b.value is not None]
        if len(values) != len(bindings):
            return None, f"{name!r} is bound by a def, class, loop, import or unpacking"
        if len(bindings) > 1 and sum(1 for b in bindings if not b.conditional) > 1:
            return None, f"{name!r} is assigned {len(bindings)} times at module level"
        return values, None

    def leaf(self, node: ast.expr, local: Local, call_open: CallOpen = None) -> Leaf:
        """An expression and every value it can take; `local` names shadow module constants."""
        values, reason, names = self._values(node, local, 0)
        code = self.lazy_code(node, call_open)
        if reason is not None:
            return Leaf(node, code, (), reason, frozenset(names))
        if len(values) > MAX_COMBINATIONS:
            return Leaf(
                node, code, (), f"{shorten(self.code(node, call_open))} can take too many values", frozenset(names)
            )
        return Leaf(node, code, values, None, frozenset(names))

    def through_name(self, node: ast.Name, local: Local, depth: int, read: _Reader) -> _Read:
        """Every value a module-level name can hold, read with `read` (a local name is not static)."""
        if node.id in local:
            return (), f"{node.id!r} is bound in the enclosing function or class (an argument or a local)", set()
        exprs, why = self.binding_values(node.id)
        if exprs is None:
            return (), why, set()
        out: list[object] = []
        names = {node.id}
        for expr in exprs:
            values, reason, inner = read(expr, frozenset(), depth + 1)
            if reason is not None:
                return (), reason, names
            out.extend(values)
            names |= inner
        return _dedupe(out), None, names

    @staticmethod
    def through_ifexp(node: ast.IfExp, local: Local, depth: int, read: _Reader) -> _Read:
        """Both branches of an import-time conditional, read with `read`."""
        body, r1, n1 = read(node.body, local, depth + 1)
        orelse, r2, n2 = read(node.orelse, local, depth + 1)
        if r1 is not None or r2 is not None:
            return (), r1 or r2, n1 | n2
        return _dedupe([*body, *orelse]), None, n1 | n2

    def read(self, node: ast.expr, local: Local = frozenset(), depth: int = 0) -> _Read:
        """Every value an expression can take, the reason it has none, and the constants it read
        (`depth` counts the constants already gone through)."""
        return self._values(node, local, depth)

    def _values(self, node: ast.expr, local: Local, depth: int) -> _Read:
        if depth > _MAX_DEPTH:
            return (), "constants refer to each other too deeply", set()
        match node:
            case ast.Constant(value=value):
                if value is Ellipsis:
                    return (), f"a computed value ({shorten(self.code(node))})", set()
                return (value,), None, set()
            case ast.JoinedStr():
                text = self._plain_fstring(node)
                if text is None:
                    return (), f"an f-string with names ({shorten(self.code(node))})", set()
                return (text,), None, set()
            case ast.UnaryOp():
                try:
                    return (ast.literal_eval(node),), None, set()
                except (ValueError, TypeError, SyntaxError):
                    return (), f"a computed value ({shorten(self.code(node))})", set()
            case ast.Name():
                return self.through_name(node, local, depth, self._values)
            case ast.IfExp():
                return self.through_ifexp(node, local, depth, self._values)
            case ast.Tuple() | ast.List():
                parts: list[tuple[object, ...]] = []
                names: set[str] = set()
                for el in node.elts:
                    if isinstance(el, ast.Starred):
                        return (), f"a starred element ({shorten(self.code(node))})", names
                    values, reason, inner = self._values(el, local, depth + 1)
                    names |= inner
                    if reason is not None:
                        return (), reason, names
                    parts.append(values)
                combos = list(itertools.islice(itertools.product(*parts), MAX_COMBINATIONS + 1))
                kind: type[Any] = list if isinstance(node, ast.List) else tuple
                return tuple(kind(c) for c in combos), None, names
        return (), f"a computed value ({shorten(self.code(node))})", set()

    def _plain_fstring(self, node: ast.JoinedStr) -> str | None:
        """The text of an f-string without placeholders; None when it has any, or when it is
        glued to other literals (`"a" f"b"`, which a concrete syntax tree does not evaluate)."""
        if not all(isinstance(v, ast.Constant) for v in node.values):
            return None
        if _string_tokens(self.text.node(node)) != 1:
            return None
        return "".join(str(v.value) for v in node.values)  # type: ignore[attr-defined]  # all Constants

    def dict_entries(self, node: ast.expr, local: Local) -> tuple[list[tuple[str, ast.expr]] | None, Local | None, str]:
        """The (key, value) pairs of a dict the module writes out (`{"k": v}` or `dict(k=v)`,
        inline or through a module constant), the scope its values are read in (None: where
        the dict is used; empty for a module constant), or why it cannot be read."""
        scope: Local | None = None
        if isinstance(node, ast.Name):
            if node.id in local:
                return None, None, f"{node.id!r} is bound in the enclosing function or class"
            exprs, why = self.binding_values(node.id)
            if exprs is None:
                return None, None, why or ""
            if len(exprs) != 1:
                return None, None, f"{node.id!r} is chosen at import time"
            node, scope = exprs[0], frozenset()
        if isinstance(node, ast.Dict):
            out: list[tuple[str, ast.expr]] = []
            for key, value in zip(node.keys, node.values, strict=True):
                if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
                    return None, None, "the dict's keys are not all strings written out"
                out.append((key.value, value))
            return out, scope, ""
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "dict"
            and "dict" not in self.names.bindings
            and not node.args
            and all(k.arg is not None for k in node.keywords)
        ):
            return [(k.arg, k.value) for k in node.keywords if k.arg is not None], scope, ""
        return None, None, "not a dict written out in this module"

    # -- flytekit's Resources ------------------------------------------------------------------

    def resources_value(self, node: ast.expr, local: Local) -> ResourcesValue | None:
        """A `Resources(...)` argument; None for a literal `None` (the argument is absent)."""
        return self.resources_argument(node, local, self._is_resources, self._resources_call, "Resources(...)")

    def _is_resources(self, node: ast.expr) -> bool:
        return isinstance(node, ast.Call) and self.names.canonical(node.func) == "Resources"

    def resources_argument(
        self,
        node: ast.expr,
        local: Local,
        is_call: Callable[[ast.expr], bool],
        read: Callable[[ast.Call, Local], ResourcesValue],
        label: str,
    ) -> ResourcesValue | None:
        """A resources argument of either SDK: a call `is_call` accepts (read by `read`), inline or
        through a module constant; None for a literal `None`. `label` names the call in reasons."""
        code = self.lazy_code(node)
        if isinstance(node, ast.Constant) and node.value is None:
            return None
        if isinstance(node, ast.Name):
            if node.id in local:
                return ResourcesValue(
                    code, reason=f"{node.id!r} is bound in the enclosing function or class (an argument or a local)"
                )
            exprs, why = self.binding_values(node.id)
            if exprs is None:
                return ResourcesValue(code, reason=why)
            if len(exprs) > 1:
                return ResourcesValue(code, reason=f"{node.id!r} is chosen at import time")
            inner = exprs[0]
            if not is_call(inner):
                return ResourcesValue(code, reason=f"{node.id!r} is not a {label} call")
            assert isinstance(inner, ast.Call)
            value = read(inner, frozenset())
            value.text = code
            value.through = node.id
            return value
        if is_call(node):
            assert isinstance(node, ast.Call)
            return read(node, local)
        return ResourcesValue(code, reason=f"not a {label} call ({shorten(self.code(node))})")

    def _resources_call(self, call: ast.Call, local: Local) -> ResourcesValue:
        out = ResourcesValue(self.lazy_code(call), callee_text=self.lazy_code(call.func), call=call)
        positional = 0
        opened = self.positional(call)
        for index, arg in enumerate(self.text.arguments(call)):
            if isinstance(arg, ast.Starred) or (isinstance(arg, ast.keyword) and arg.arg is None):
                spans = self.text.argument_spans(call)
                out.reason = f"unpacks arguments ({shorten(self.text.segment(spans[index]))})"
                return out
            value = arg.value if isinstance(arg, ast.keyword) else arg
            if isinstance(arg, ast.keyword):
                assert arg.arg is not None
                name = arg.arg
            else:
                if positional >= len(POSITIONAL_FIELDS):
                    out.reason = "has more than four positional arguments"
                    return out
                name = POSITIONAL_FIELDS[positional]
                positional += 1
            if name in out.fields:
                out.reason = f"gives {name} twice"
                return out
            out.fields[name] = self.field(value, local, None if isinstance(arg, ast.keyword) else opened)
        return out

    def field(self, node: ast.expr, local: Local, call_open: CallOpen = None) -> FieldValue:
        """One field's value: a (request, limit) pair of leaves, or one leaf."""
        if isinstance(node, (ast.Tuple, ast.List)) and len(node.elts) == 2:
            elements = node.elts
            if not any(isinstance(el, ast.Starred) for el in elements):
                parts = (self.leaf(elements[0], local), self.leaf(elements[1], local))
                whole = Leaf(node, self.lazy_code(node, call_open), (), None, parts[0].names | parts[1].names)
                return FieldValue(whole, parts, isinstance(node, ast.List))
        return FieldValue(self.leaf(node, local, call_open))

    # -- flytekit's accelerators ---------------------------------------------------------------

    def accelerator_leaf(self, node: ast.expr, local: Local, depth: int = 0) -> Leaf:
        """An `accelerator=` value: flytekit constants by name, `GPUAccelerator(...)` as a `RawDevice`."""
        values, reason, names = self._accelerator(node, local, depth)
        return Leaf(node, self.lazy_code(node), values, reason, frozenset(names))

    def _accelerator(self, node: ast.expr, local: Local, depth: int) -> _Read:
        if depth > _MAX_DEPTH:
            return (), "constants refer to each other too deeply", set()
        if isinstance(node, ast.Constant) and node.value is None:
            return (None,), None, set()
        name = self.names.canonical(node)
        if name is not None and name.startswith("accelerators."):
            return (name[len("accelerators.") :],), None, set()
        if isinstance(node, ast.Call) and self.names.canonical(node.func) == "accelerators.GPUAccelerator":
            args: list[ast.expr | ast.keyword] = [*node.args, *(k for k in node.keywords if k.arg == "device")]
            if len(args) != 1 or len(node.args) + len(node.keywords) != 1 or isinstance(args[0], ast.Starred):
                return (), f"GPUAccelerator with unexpected arguments ({shorten(self.code(node))})", set()
            only = args[0]
            self.positional(node)
            device = only.value if isinstance(only, ast.keyword) else only
            values, reason, names = self._values(device, local, depth + 1)
            if reason is not None:
                return (), reason, names
            if not all(isinstance(v, str) for v in values):
                return (), f"GPUAccelerator needs a device string ({shorten(self.code(node))})", names
            return tuple(RawDevice(str(v)) for v in values), None, names
        if isinstance(node, ast.Name):
            return self.through_name(node, local, depth, self._accelerator)
        if isinstance(node, ast.IfExp):
            return self.through_ifexp(node, local, depth, self._accelerator)
        return (), f"not a flytekit accelerator constant ({shorten(self.code(node))})", set()


def _string_tokens(text: str) -> int:
    """How many string literals a piece of source holds (an f-string counts once)."""
    count = 0
    fstring = getattr(tokenize, "FSTRING_START", None)
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type in (tokenize.STRING, fstring):
                count += 1
    except (tokenize.TokenError, SyntaxError):
        return 0
    return count
