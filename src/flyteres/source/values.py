"""Static values: what an expression of a declaration can evaluate to, without running the module.

Names are resolved through the module's own constants; anything that needs
running code (function arguments, calls, f-strings with names, `**kwargs`,
imported values) gets the reason instead of a guess.

A constant chosen at import time (`MEM = "100Mi" if os.getenv("X") else
"30Gi"`, or assigned in the branches of a module-level `if`) is evaluated to
every value it can take (`Leaf.values`), so the codemod can check that all of
them convert the same way (`combinations`).
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import libcst as cst

from flyteres import accelerators
from flyteres._errors import UnknownAcceleratorError
from flyteres.convert._shared import implied_device_class
from flyteres.core.spec import AcceleratorSpec
from flyteres.source.names import POSITIONAL_FIELDS, ModuleNames

__all__ = [
    "MAX_COMBINATIONS",
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
    "shorten",
]

# The most values one declaration is evaluated for (each import-time choice
# multiplies them); beyond this the declaration is reported, not converted.
MAX_COMBINATIONS = 64
_MAX_DEPTH = 16
_CODE_SHOWN = 60


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

    node: cst.BaseExpression | None
    text: str | Callable[[], str]  # the source, or how to get it (codegen is slow; most never need it)
    values: tuple[object, ...]
    reason: str | None = None
    names: frozenset[str] = frozenset()

    @property
    def code(self) -> str:
        if not isinstance(self.text, str):
            self.text = self.text()
        return self.text

    @property
    def static(self) -> bool:
        return self.reason is None

    @property
    def is_name(self) -> bool:
        return isinstance(self.node, cst.Name)


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
    callee: str | None = None
    through: str | None = None
    call: cst.Call | None = None
    reason: str | None = None

    @property
    def code(self) -> str:
        if not isinstance(self.text, str):
            self.text = self.text()
        return self.text

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
_Reader = Callable[[cst.BaseExpression, frozenset[str], int], _Read]


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

    def __init__(self, module: cst.Module, names: ModuleNames, rebound: set[str]) -> None:
        self.module = module
        self.names = names
        self.rebound = rebound

    def code(self, node: cst.CSTNode) -> str:
        """A node's source (codegen, except for the bare names and literals most leaves are)."""
        # Most leaves are a bare name or literal: their text is their value (codegen is slow).
        if isinstance(node, _ATOMS) and not node.lpar:
            return node.value
        return self.module.code_for_node(node)

    def lazy_code(self, node: cst.CSTNode) -> str | Callable[[], str]:
        """A node's source, or how to get it when that needs codegen (most never need it)."""
        if isinstance(node, _ATOMS) and not node.lpar:
            return node.value
        return lambda: self.code(node)

    def binding_values(self, name: str) -> tuple[list[cst.BaseExpression] | None, str | None]:
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

    def leaf(self, node: cst.BaseExpression, local: frozenset[str]) -> Leaf:
        """An expression and every value it can take; `local` names shadow module constants."""
        values, reason, names = self._values(node, local, 0)
        code = self.lazy_code(node)
        if reason is not None:
            return Leaf(node, code, (), reason, frozenset(names))
        if len(values) > MAX_COMBINATIONS:
            return Leaf(node, code, (), f"{shorten(self.code(node))} can take too many values", frozenset(names))
        return Leaf(node, code, values, None, frozenset(names))

    def _through_name(self, node: cst.Name, local: frozenset[str], depth: int, read: _Reader) -> _Read:
        """Every value a module-level name can hold, read with `read` (a local name is not static)."""
        if node.value in local:
            return (), f"{node.value!r} is bound in the enclosing function or class (an argument or a local)", set()
        exprs, why = self.binding_values(node.value)
        if exprs is None:
            return (), why, set()
        out: list[object] = []
        names = {node.value}
        for expr in exprs:
            values, reason, inner = read(expr, frozenset(), depth + 1)
            if reason is not None:
                return (), reason, names
            out.extend(values)
            names |= inner
        return _dedupe(out), None, names

    @staticmethod
    def _through_ifexp(node: cst.IfExp, local: frozenset[str], depth: int, read: _Reader) -> _Read:
        """Both branches of an import-time conditional, read with `read`."""
        body, r1, n1 = read(node.body, local, depth + 1)
        orelse, r2, n2 = read(node.orelse, local, depth + 1)
        if r1 is not None or r2 is not None:
            return (), r1 or r2, n1 | n2
        return _dedupe([*body, *orelse]), None, n1 | n2

    def _values(
        self, node: cst.BaseExpression, local: frozenset[str], depth: int
    ) -> tuple[tuple[object, ...], str | None, set[str]]:
        if depth > _MAX_DEPTH:
            return (), "constants refer to each other too deeply", set()
        if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
            value = node.evaluated_value
            if value is None:
                return (), f"an f-string with names ({shorten(self.code(node))})", set()
            return (value,), None, set()
        if isinstance(node, cst.FormattedString):
            text = _plain_fstring(self.code(node))
            if text is None:
                return (), f"an f-string with names ({shorten(self.code(node))})", set()
            return (text,), None, set()
        if isinstance(node, (cst.Integer, cst.Float, cst.Imaginary, cst.UnaryOperation)):
            try:
                return (ast.literal_eval(self.code(node).strip()),), None, set()
            except (ValueError, SyntaxError):
                return (), f"a computed value ({shorten(self.code(node))})", set()
        if isinstance(node, cst.Name):
            if node.value in ("True", "False", "None"):
                return ({"True": True, "False": False, "None": None}[node.value],), None, set()
            return self._through_name(node, local, depth, self._values)
        if isinstance(node, cst.IfExp):
            return self._through_ifexp(node, local, depth, self._values)
        if isinstance(node, (cst.Tuple, cst.List)):
            parts: list[tuple[object, ...]] = []
            names: set[str] = set()
            for el in node.elements:
                if not isinstance(el, cst.Element):
                    return (), f"a starred element ({shorten(self.code(node))})", names
                values, reason, inner = self._values(el.value, local, depth + 1)
                names |= inner
                if reason is not None:
                    return (), reason, names
                parts.append(values)
            combos = list(itertools.islice(itertools.product(*parts), MAX_COMBINATIONS + 1))
            kind: type[Any] = list if isinstance(node, cst.List) else tuple
            return tuple(kind(c) for c in combos), None, names
        return (), f"a computed value ({shorten(self.code(node))})", set()

    def resources_value(self, node: cst.BaseExpression, local: frozenset[str]) -> ResourcesValue | None:
        """A `Resources(...)` argument; None for a literal `None` (the argument is absent)."""
        code = self.lazy_code(node)
        if isinstance(node, cst.Name) and node.value == "None":
            return None
        if isinstance(node, cst.Name):
            if node.value in local:
                return ResourcesValue(
                    code, reason=f"{node.value!r} is bound in the enclosing function or class (an argument or a local)"
                )
            exprs, why = self.binding_values(node.value)
            if exprs is None:
                return ResourcesValue(code, reason=why)
            if len(exprs) > 1:
                return ResourcesValue(code, reason=f"{node.value!r} is chosen at import time")
            inner = exprs[0]
            if not (isinstance(inner, cst.Call) and self.names.canonical(inner.func) == "Resources"):
                return ResourcesValue(code, reason=f"{node.value!r} is not a Resources(...) call")
            value = self._resources_call(inner, frozenset())
            value.text = code
            value.through = node.value
            return value
        if isinstance(node, cst.Call) and self.names.canonical(node.func) == "Resources":
            return self._resources_call(node, local)
        return ResourcesValue(code, reason=f"not a Resources(...) call ({shorten(self.code(node))})")

    def _resources_call(self, call: cst.Call, local: frozenset[str]) -> ResourcesValue:
        out = ResourcesValue(self.lazy_code(call), callee=self.code(call.func).strip(), call=call)
        positional = 0
        for arg in call.args:
            if arg.star:
                out.reason = f"unpacks arguments ({shorten(self.code(arg))})"
                return out
            if arg.keyword is None:
                if positional >= len(POSITIONAL_FIELDS):
                    out.reason = "has more than four positional arguments"
                    return out
                name = POSITIONAL_FIELDS[positional]
                positional += 1
            else:
                name = arg.keyword.value
            if name in out.fields:
                out.reason = f"gives {name} twice"
                return out
            out.fields[name] = self._field(arg.value, local)
        return out

    def _field(self, node: cst.BaseExpression, local: frozenset[str]) -> FieldValue:
        if isinstance(node, (cst.Tuple, cst.List)) and len(node.elements) == 2:
            elements = node.elements
            if all(isinstance(el, cst.Element) for el in elements):
                parts = (self.leaf(elements[0].value, local), self.leaf(elements[1].value, local))
                whole = Leaf(node, self.lazy_code(node), (), None, parts[0].names | parts[1].names)
                return FieldValue(whole, parts, isinstance(node, cst.List))
        return FieldValue(self.leaf(node, local))

    def accelerator_leaf(self, node: cst.BaseExpression, local: frozenset[str], depth: int = 0) -> Leaf:
        """An `accelerator=` value: flytekit constants by name, `GPUAccelerator(...)` as a `RawDevice`."""
        values, reason, names = self._accelerator(node, local, depth)
        return Leaf(node, self.lazy_code(node), values, reason, frozenset(names))

    def _accelerator(
        self, node: cst.BaseExpression, local: frozenset[str], depth: int
    ) -> tuple[tuple[object, ...], str | None, set[str]]:
        if depth > _MAX_DEPTH:
            return (), "constants refer to each other too deeply", set()
        if isinstance(node, cst.Name) and node.value == "None":
            return (None,), None, set()
        name = self.names.canonical(node)
        if name is not None and name.startswith("accelerators."):
            return (name[len("accelerators.") :],), None, set()
        if isinstance(node, cst.Call) and self.names.canonical(node.func) == "accelerators.GPUAccelerator":
            args = [a for a in node.args if a.keyword is None or a.keyword.value == "device"]
            if len(args) != 1 or len(node.args) != 1 or args[0].star:
                return (), f"GPUAccelerator with unexpected arguments ({shorten(self.code(node))})", set()
            values, reason, names = self._values(args[0].value, local, depth + 1)
            if reason is not None:
                return (), reason, names
            if not all(isinstance(v, str) for v in values):
                return (), f"GPUAccelerator needs a device string ({shorten(self.code(node))})", names
            return tuple(RawDevice(str(v)) for v in values), None, names
        if isinstance(node, cst.Name):
            return self._through_name(node, local, depth, self._accelerator)
        if isinstance(node, cst.IfExp):
            return self._through_ifexp(node, local, depth, self._accelerator)
        return (), f"not a flytekit accelerator constant ({shorten(self.code(node))})", set()


_ATOMS = (cst.Name, cst.SimpleString, cst.Integer, cst.Float)


def _plain_fstring(code: str) -> str | None:
    try:
        tree = ast.parse(code.strip(), mode="eval")
    except SyntaxError:
        return None
    body = tree.body
    if isinstance(body, ast.JoinedStr) and all(isinstance(v, ast.Constant) for v in body.values):
        return "".join(str(v.value) for v in body.values)  # type: ignore[attr-defined]
    return None
