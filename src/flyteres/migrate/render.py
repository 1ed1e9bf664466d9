"""Spelling converter output as source, reusing the file's own expressions where a value passes through.

The text itself comes from the one renderer of SDK source,
`flyteres.convert.source` (`flyte_resources`, `flytekit_resources`); the
codemod only brings its own `Spelling`: `FileSpelling` writes a value that
passes through unchanged as the expression the file already had there (the
literal with its quotes, the module constant, the import-time choice), and a
new string with the module's own quote, so a diff shows only what changes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from dataclasses import field as dataclass_field

from flyteres.convert.flyte import FlyteArguments
from flyteres.convert.flytekit import FlytekitArguments
from flyteres.convert.source import Spelling, flyte_resources, flytekit_resources
from flyteres.source.model import Found
from flyteres.source.names import RESOURCE_ARGUMENTS
from flyteres.source.values import Combo, Leaf, leaf_value

__all__ = ["FileSpelling", "Slots", "render_flyte", "render_flytekit"]

_REPR_STRING = re.compile(r"'([^'\"\\\n]*)'")


class FileSpelling(Spelling):
    """Spells values the way the file does, for one combination of import-time values.

    `slots` says which expression of the file each value came from and
    `combo` which value each of them takes; an expression that reads a name
    in `forbidden` (shadowed, or bound too late for where the code goes) is
    never reused. `kept` collects the expressions reused as written.
    """

    def __init__(self, quote: str, forbidden: AbstractSet[str], slots: Slots, combo: Combo) -> None:
        self.quote = quote
        self.forbidden = forbidden
        self.slots = slots
        self.combo = combo
        self.kept: list[Leaf] = []

    def text(self, field: str, text: str) -> str:
        """The expression the value came from if it passes through unchanged, else a new string."""
        if field == "shared_memory":
            return self._slot(text, [self.slots.shared_memory])
        return self._slot(text, [self.slots.requests.get(field), self.slots.limits.get(field)])

    def pair(self, field: str, pair: tuple[str, str]) -> str:
        """The pair as written when it passes through whole, else each side from its own slot."""
        whole = self.slots.pairs.get(field)
        if whole is not None and whole.static and not whole.names & self.forbidden:
            written = leaf_value(whole, self.combo)
            if isinstance(written, tuple) and all(isinstance(v, str) for v in written) and written == pair:
                self.kept.append(whole)
                return whole.code
        # A request may be written where the limit was and the other way round (limit-only keys).
        request, limit = self.slots.requests.get(field), self.slots.limits.get(field)
        return f"({self._slot(pair[0], [request, limit])}, {self._slot(pair[1], [limit, request])})"

    def code(self, source: str) -> str:
        """A whole expression built by the renderer, with the module's quote."""
        # The renderer spells strings with repr(): use the module's quote instead.
        if self.quote == "'":
            return source
        return _REPR_STRING.sub(lambda m: f'"{m.group(1)}"', source)

    def _string(self, text: str) -> str:
        if self.quote in text or "\\" in text or "\n" in text:
            return repr(text)
        return f"{self.quote}{text}{self.quote}"

    @staticmethod
    def _matches(value: object, text: str) -> bool:
        # Only a string passes through as written: the converters write ints and
        # floats as strings (flytekit's task serializer crashes on them).
        return isinstance(value, str) and value == text

    def _slot(self, text: str, candidates: Sequence[Leaf | None]) -> str:
        for leaf in candidates:
            if leaf is None or leaf.node is None or not leaf.static or leaf.names & self.forbidden:
                continue
            if self._matches(leaf_value(leaf, self.combo), text):
                self.kept.append(leaf)
                return leaf.code
        return self._string(text)


@dataclass
class Slots:
    """Where each request and limit came from in the source, per flytekit field."""

    requests: dict[str, Leaf] = dataclass_field(default_factory=dict)
    limits: dict[str, Leaf] = dataclass_field(default_factory=dict)
    pairs: dict[str, Leaf] = dataclass_field(default_factory=dict)
    accelerator: Leaf | None = None
    shared_memory: Leaf | None = None

    @classmethod
    def of(cls, found: Found, keys: Sequence[str] = RESOURCE_ARGUMENTS) -> Slots:
        """The slots of a declaration's arguments `keys`; `resources=` pairs split into both sides."""
        out = cls()
        if "requests" in keys and found.requests is not None:
            out.requests = {n: fv.whole for n, fv in found.requests.fields.items()}
        if "limits" in keys and found.limits is not None:
            out.limits = {n: fv.whole for n, fv in found.limits.fields.items()}
        if "resources" in keys and found.resources is not None:
            for name, fv in found.resources.fields.items():
                if fv.parts is not None:
                    out.requests[name], out.limits[name] = fv.parts
                elif fv.whole.static and fv.whole.values and isinstance(fv.whole.values[0], (tuple, list)):
                    out.pairs[name] = fv.whole
                else:
                    out.requests[name] = fv.whole
        if "accelerator" in keys:
            out.accelerator = found.accelerator
        if "shared_memory" in keys:
            out.shared_memory = found.shared_memory
        return out

    def over(self, base: Slots) -> Slots:
        """These slots laid over `base` key by key, the way a node override merges."""
        pairs = {k: v for k, v in base.pairs.items() if k not in self.requests and k not in self.limits}
        requests = {k: v for k, v in base.requests.items() if k not in self.pairs}
        limits = {k: v for k, v in base.limits.items() if k not in self.pairs}
        return Slots(
            requests={**requests, **self.requests},
            limits={**limits, **self.limits},
            pairs={**pairs, **self.pairs},
            accelerator=self.accelerator if self.accelerator is not None else base.accelerator,
            shared_memory=self.shared_memory if self.shared_memory is not None else base.shared_memory,
        )


def render_flytekit(args: FlytekitArguments, callee: str, spelling: FileSpelling, *, order: Sequence[str] = ()) -> str:
    """`Resources(...)` in flytekit's unified form, fields in the order they were written."""
    return flytekit_resources(args.resources or {}, callee, spelling, order)


def render_flyte(args: FlyteArguments, module: str, spelling: FileSpelling) -> str:
    """`flyte.Resources(...)`, with `module` the name the file knows the flyte package by."""
    return flyte_resources(args, module, spelling)
