"""Spelling converter output as source, reusing the file's own expressions where a value passes through."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field

from flyteres.convert.flyte import FlyteArguments
from flyteres.convert.flytekit import FlytekitArguments
from flyteres.source.analysis import Found
from flyteres.source.names import RESOURCE_ARGUMENTS
from flyteres.source.values import Combo, Leaf, leaf_value

__all__ = ["Renderer", "Slots", "render_flyte", "render_flytekit"]

_REPR_STRING = re.compile(r"'([^'\"\\\n]*)'")


class Renderer:
    """Spells converter output as source, reusing the original expressions where
    the value passes through unchanged."""

    def __init__(self, quote: str, forbidden: frozenset[str]) -> None:
        self.quote = quote
        self.forbidden = forbidden
        self.kept: list[Leaf] = []

    def string(self, text: str) -> str:
        if self.quote in text or "\\" in text or "\n" in text:
            return repr(text)
        return f"{self.quote}{text}{self.quote}"

    def requote(self, source: str) -> str:
        # The converters spell strings with repr(): use the module's quote instead.
        if self.quote == "'":
            return source
        return _REPR_STRING.sub(lambda m: f'"{m.group(1)}"', source)

    @staticmethod
    def _matches(value: object, text: str) -> bool:
        # Only a string passes through as written: the converters write ints and
        # floats as strings (flytekit's task serializer crashes on them).
        return isinstance(value, str) and value == text

    def slot(self, text: str, candidates: Sequence[Leaf | None], combo: Combo) -> str:
        for leaf in candidates:
            if leaf is None or leaf.node is None or not leaf.static or leaf.names & self.forbidden:
                continue
            if self._matches(leaf_value(leaf, combo), text):
                self.kept.append(leaf)
                return leaf.code
        return self.string(text)

    def pair(
        self,
        value: tuple[str, str],
        request: Leaf | None,
        limit: Leaf | None,
        whole: Leaf | None,
        combo: Combo,
    ) -> str:
        if whole is not None and whole.static and not whole.names & self.forbidden:
            written = leaf_value(whole, combo)
            if isinstance(written, tuple) and all(isinstance(v, str) for v in written) and written == value:
                self.kept.append(whole)
                return whole.code
        return f"({self.slot(value[0], [request, limit], combo)}, {self.slot(value[1], [limit, request], combo)})"


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


def render_flytekit(
    args: FlytekitArguments, callee: str, slots: Slots, combo: Combo, r: Renderer, *, order: Sequence[str] = ()
) -> str:
    """`Resources(...)` in flytekit's unified form, fields in the order they were written."""
    parts = []
    fields = args.resources or {}
    rank = {name: i for i, name in enumerate(order)}
    for name in sorted(fields, key=lambda n: rank.get(n, len(rank))):
        value = fields[name]
        req, lim = slots.requests.get(name), slots.limits.get(name)
        if isinstance(value, tuple):
            parts.append(f"{name}={r.pair(value, req, lim, slots.pairs.get(name), combo)}")
        else:
            parts.append(f"{name}={r.slot(value, [req, lim], combo)}")
    return f"{callee}({', '.join(parts)})"


def render_flyte(args: FlyteArguments, module: str, slots: Slots, combo: Combo, r: Renderer) -> str:
    parts = []
    for key, name in (("cpu", "cpu"), ("memory", "mem")):
        value = getattr(args, key)
        if value is None:
            continue
        req, lim = slots.requests.get(name), slots.limits.get(name)
        if isinstance(value, tuple):
            parts.append(f"{key}={r.pair(value, req, lim, slots.pairs.get(name), combo)}")
        else:
            parts.append(f"{key}={r.slot(value, [req, lim], combo)}")
    if args.gpu is not None:
        parts.append(f"gpu={r.requote(args.gpu.source(module))}")
    if args.disk is not None:
        es = "ephemeral_storage"
        parts.append(f"disk={r.slot(args.disk, [slots.requests.get(es), slots.limits.get(es)], combo)}")
    if args.shm is not None:
        parts.append(f"shm={r.slot(args.shm, [slots.shared_memory], combo)}")
    return f"{module}.Resources({', '.join(parts)})"
