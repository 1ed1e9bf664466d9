"""A namespace's ResourceQuotas and LimitRanges, read from manifests as ``kubectl get -o yaml`` prints them.

A file may hold one object, several documents, or a ``kind: List`` (what
``kubectl get resourcequota,limitrange -o yaml`` prints); objects of other
kinds are skipped. Values keep their lines, so every refusal names the
object, the file and the line.

A LimitRange is stored as the API server defaults it (``pkg/apis/core/v1/defaults.go``
``SetDefaults_LimitRangeItem``, for ``type: Container`` only): a missing
``default`` takes ``max``, then a missing ``defaultRequest`` takes
``default``, then ``min``. A manifest as written is therefore read the way
``kubectl get`` would print it back, and ``derived`` says which values came
from that defaulting. What the API server refuses to store
(``pkg/apis/core/validation/validation.go`` ``ValidateLimitRange``) is
refused here with the line.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import yaml

from flyteres.backend.files import (
    PlatformConfigError,
    PlatformNote,
    Source,
    child,
    compose,
    is_null,
    join,
    kind_of,
    manifests,
    name_of,
    pairs,
    quantity,
    read_text,
    scalar,
    shown,
)
from flyteres.core.quantity import Quantity

__all__ = [
    "LIMIT_TYPES",
    "POD_QUOTA_KEYS",
    "LimitRangeItem",
    "LimitRangeSpec",
    "QuotaSpec",
    "limitrange_from_node",
    "limitranges_of",
    "load_limitranges",
    "load_quotas",
    "overcommit_allowed",
    "parse_limitranges",
    "parse_quotas",
    "quota_from_node",
]


# -- ResourceQuota ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuotaSpec:
    """One Kubernetes ResourceQuota: its name and ``spec.hard`` as quantities.

    Keys stay as Kubernetes spells them (``requests.cpu``, ``limits.memory``,
    ``requests.nvidia.com/gpu``, ``count/pods``...).

    >>> q = QuotaSpec("team", {"limits.memory": Quantity("64Gi")})
    >>> str(q.hard["limits.memory"])
    '64Gi'
    """

    name: str
    hard: Mapping[str, Quantity]
    path: str | None = None
    line: int | None = None
    notes: tuple[PlatformNote, ...] = ()
    lines: Mapping[str, int] = field(default_factory=dict, repr=False, compare=False)
    scoped: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "hard", MappingProxyType(dict(self.hard)))
        object.__setattr__(self, "lines", MappingProxyType(dict(self.lines)))
        object.__setattr__(self, "notes", tuple(self.notes))

    def where(self, key: str | None = None) -> str:
        """``path:line`` of a key of ``spec.hard`` (or of the quota)."""
        path = self.path or "<quota>"
        line = self.lines.get(key, self.line) if key is not None else self.line
        return path if line is None else f"{path}:{line}"


# Quota keys that count something a task pod uses (kubernetes pkg/quota/v1/evaluator/core/pods.go podResources);
# requests.<extended resource> and hugepages are recognised by prefix there too.
POD_QUOTA_KEYS = frozenset(
    {
        "pods",
        "count/pods",
        "cpu",
        "memory",
        "ephemeral-storage",
        "requests.cpu",
        "requests.memory",
        "requests.ephemeral-storage",
        "limits.cpu",
        "limits.memory",
        "limits.ephemeral-storage",
    }
)
_NATIVE_PREFIXES = ("kubernetes.io/", "requests.kubernetes.io/")


def _quota_key_applies(key: str) -> bool:
    if key in POD_QUOTA_KEYS:
        return True
    # An extended resource is quota'd only as requests.<name> (isExtendedResourceNameForQuota).
    return key.startswith("requests.") and "/" in key and not key.startswith(_NATIVE_PREFIXES)


def quota_from_node(node: yaml.Node, src: Source) -> QuotaSpec:
    """One ``kind: ResourceQuota`` manifest."""
    name = name_of(node, src)
    spec = child(node, "spec", src)
    if spec is None:
        raise src.error(node, "spec", f"the ResourceQuota {shown(name)} has no spec")
    hard_node = child(spec, "hard", src)
    if hard_node is None:
        raise src.error(spec, "spec.hard", f"the ResourceQuota {shown(name)} has no spec.hard")
    hard: dict[str, Quantity] = {}
    lines: dict[str, int] = {}
    notes: list[PlatformNote] = []
    for key, key_node, q_node in pairs(hard_node, src, "spec.hard"):
        hard[key] = quantity(q_node, src, f"spec.hard.{key}")
        lines[key] = src.line(q_node)
        if key.startswith("limits.") and key not in POD_QUOTA_KEYS:
            notes.append(
                src.note(
                    key_node,
                    f"spec.hard.{key}",
                    "Kubernetes quotas an extended resource only as requests.<name>; this key is not checked",
                )
            )
        elif not _quota_key_applies(key):
            notes.append(src.note(key_node, f"spec.hard.{key}", "does not count task pods"))
    scoped = child(spec, "scopes", src) is not None or child(spec, "scopeSelector", src) is not None
    if scoped:
        notes.append(
            src.note(spec, "spec.scopes", "a scoped quota applies only to matching pods; checked as if it applied")
        )
    return QuotaSpec(name, hard, path=src.path, line=src.line(node), notes=tuple(notes), lines=lines, scoped=scoped)


def _objects(text: str, src: Source) -> tuple[list[yaml.Node], list[tuple[str | None, yaml.Node]]]:
    docs = compose(text, src)
    return docs, list(manifests(docs, src))


def _none_found(docs: list[yaml.Node], src: Source, kind: str) -> PlatformConfigError:
    line = src.line(docs[0]) if docs else None
    return PlatformConfigError(src.path, line, "kind", f"no {kind} in this file (expected kind: {kind})")


def parse_quotas(text: str, path: str = "<quota>") -> tuple[QuotaSpec, ...]:
    """Every ResourceQuota in YAML text (one or several documents, or a ``kind: List``).

    >>> (q,) = parse_quotas("kind: ResourceQuota\\nmetadata: {name: team}\\nspec:\\n  hard: {limits.memory: 64Gi}\\n")
    >>> q.name, str(q.hard["limits.memory"]), q.lines["limits.memory"]
    ('team', '64Gi', 4)
    """
    src = Source(path)
    docs, objects = _objects(text, src)
    quotas = tuple(quota_from_node(node, src) for kind, node in objects if kind == "ResourceQuota")
    if not quotas:
        raise _none_found(docs, src, "ResourceQuota")
    return quotas


def load_quotas(path: str | Path) -> tuple[QuotaSpec, ...]:
    """Read every ResourceQuota from a manifest file (see `parse_quotas`)."""
    return parse_quotas(read_text(path), str(path))


# -- LimitRange ------------------------------------------------------------------------------------------------

#: The LimitRange item types Kubernetes knows (pkg/apis/core/types.go LimitType).
LIMIT_TYPES = ("Container", "Pod", "PersistentVolumeClaim")
# Manifest key -> LimitRangeItem attribute.
_SECTIONS = {
    "default": "default",
    "defaultRequest": "default_request",
    "min": "min",
    "max": "max",
    "maxLimitRequestRatio": "max_limit_request_ratio",
}


def _frozen(values: Mapping[str, Quantity | str | int] | None) -> Mapping[str, Quantity]:
    return MappingProxyType({str(k): Quantity.from_value(v) for k, v in (values or {}).items()})


def overcommit_allowed(name: str) -> bool:
    """Whether a resource may have a request below its limit (helper.IsOvercommitAllowed).

    Native resources may (``cpu``, ``memory``, ``ephemeral-storage``); extended
    resources such as ``nvidia.com/gpu`` and hugepages may not.
    """
    native = "/" not in name or name.startswith("kubernetes.io/")
    return native and not name.startswith("hugepages-")


@dataclass(frozen=True)
class LimitRangeItem:
    """One entry of a LimitRange's ``spec.limits``, keyed by Kubernetes resource names.

    Built as the API server stores it: for ``type: Container`` a missing
    ``default`` takes ``max`` and a missing ``default_request`` takes
    ``default``, then ``min`` (``SetDefaults_LimitRangeItem``); ``derived``
    names the key each such value came from.

    >>> item = LimitRangeItem("Container", max={"memory": "4Gi"})
    >>> str(item.default["memory"]), str(item.default_request["memory"]), item.derived["defaultRequest.memory"]
    ('4Gi', '4Gi', 'default.memory')
    """

    type: str
    default: Mapping[str, Quantity] = field(default_factory=dict)
    default_request: Mapping[str, Quantity] = field(default_factory=dict)
    min: Mapping[str, Quantity] = field(default_factory=dict)
    max: Mapping[str, Quantity] = field(default_factory=dict)
    max_limit_request_ratio: Mapping[str, Quantity] = field(default_factory=dict)
    line: int | None = None
    # "max.memory" -> line; a derived value has the line of the value it came from.
    lines: Mapping[str, int] = field(default_factory=dict, repr=False, compare=False)
    derived: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        for attr in _SECTIONS.values():
            object.__setattr__(self, attr, _frozen(getattr(self, attr)))
        lines = dict(self.lines)
        derived = dict(self.derived)
        if self.type == "Container":
            default, request = dict(self.default), dict(self.default_request)
            # SetDefaults_LimitRangeItem in its order: max -> default, default -> defaultRequest, min -> defaultRequest.
            for target, target_key, source, source_key in (
                (default, "default", self.max, "max"),
                (request, "defaultRequest", default, "default"),
                (request, "defaultRequest", self.min, "min"),
            ):
                for name, q in source.items():
                    if name not in target:
                        target[name] = q
                        derived[f"{target_key}.{name}"] = f"{source_key}.{name}"
                        if f"{source_key}.{name}" in lines:
                            lines[f"{target_key}.{name}"] = lines[f"{source_key}.{name}"]
            object.__setattr__(self, "default", MappingProxyType(default))
            object.__setattr__(self, "default_request", MappingProxyType(request))
        object.__setattr__(self, "lines", MappingProxyType(lines))
        object.__setattr__(self, "derived", MappingProxyType(derived))

    def section(self, key: str) -> Mapping[str, Quantity]:
        """A section by its manifest name (``"defaultRequest"``)."""
        return getattr(self, _SECTIONS[key])  # type: ignore[no-any-return]  # one of the Mapping attributes

    def problems(self) -> Iterator[tuple[str, str]]:
        """(key, reason) for each value the API server refuses to store (ValidateLimitRange)."""
        if self.type == "Pod":
            for key in ("default", "defaultRequest"):
                if self.section(key):
                    yield key, "may not be specified when type is 'Pod'"
        for name in sorted({n for s in _SECTIONS for n in self.section(s)}):
            yield from _problems(self, name)


# ValidateLimitRange's ordering checks: (key reported, the smaller section, the larger one, message).
_ORDER = (
    ("min", "min", "max", "min value {a} is greater than max value {b}"),
    ("defaultRequest", "min", "defaultRequest", "min value {a} is greater than default request value {b}"),
    ("defaultRequest", "defaultRequest", "max", "default request value {a} is greater than max value {b}"),
    (
        "defaultRequest",
        "defaultRequest",
        "default",
        "default request value {a} is greater than default limit value {b}",
    ),
    ("default", "min", "default", "min value {a} is greater than default value {b}"),
    ("default", "default", "max", "default value {a} is greater than max value {b}"),
)


def _problems(item: LimitRangeItem, name: str) -> Iterator[tuple[str, str]]:
    for key, lower, upper, message in _ORDER:
        a, b = item.section(lower).get(name), item.section(upper).get(name)
        if a is not None and b is not None and a > b:
            yield f"{key}.{name}", message.format(a=a, b=b)
    ratio = item.max_limit_request_ratio.get(name)
    lo, hi = item.min.get(name), item.max.get(name)
    if ratio is not None and ratio < Quantity.parse("1"):
        yield f"maxLimitRequestRatio.{name}", f"ratio {ratio} is less than 1"
    elif ratio is not None and lo is not None and hi is not None and not lo.is_zero() and lo * ratio.as_cores() > hi:
        yield f"maxLimitRequestRatio.{name}", f"ratio {ratio} is greater than max/min = {_ratio_text(hi, lo)}"
    dflt, req = item.default.get(name), item.default_request.get(name)
    if not overcommit_allowed(name) and dflt is not None and req is not None and dflt != req:
        # A device cannot be overcommitted, so its request must equal its limit.
        yield f"default.{name}", f"default value {dflt} must equal to defaultRequest value {req} in {name}"


def _ratio_text(limit: Quantity, request: Quantity) -> str:
    """limit / request to six decimals, as Kubernetes prints a ratio."""
    try:
        ratio = limit.as_cores() / request.as_cores()
        return f"{ratio:.6f}"
    except ArithmeticError:
        return "(too large to print)"


@dataclass(frozen=True)
class LimitRangeSpec:
    """One Kubernetes LimitRange: its name and items.

    >>> lr = LimitRangeSpec("mem", (LimitRangeItem("Container", max={"memory": "4Gi"}),))
    >>> str(lr.items[0].default["memory"])
    '4Gi'
    """

    name: str
    items: tuple[LimitRangeItem, ...]
    path: str | None = None
    line: int | None = None
    notes: tuple[PlatformNote, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "items", tuple(self.items))
        object.__setattr__(self, "notes", tuple(self.notes))

    def where(self, item: LimitRangeItem | None = None, key: str | None = None) -> str:
        """``path:line`` of a value of one item (``"max.memory"``), of the item, or of the LimitRange."""
        path = self.path or "<limitrange>"
        line = self.line
        if item is not None:
            line = item.lines.get(key, item.line) if key is not None else item.line
        return path if line is None else f"{path}:{line}"


def limitrange_from_node(node: yaml.Node, src: Source) -> LimitRangeSpec:
    """One ``kind: LimitRange`` manifest, defaulted and validated as the API server does."""
    name = name_of(node, src)
    spec = child(node, "spec", src)
    if spec is None or is_null(spec):
        raise src.error(node, "spec", f"the LimitRange {shown(name)} has no spec")
    limits = child(spec, "limits", src)
    if limits is None or is_null(limits):
        raise src.error(spec, "spec.limits", f"the LimitRange {shown(name)} has no spec.limits")
    if not isinstance(limits, yaml.SequenceNode):
        raise src.error(limits, "spec.limits", f"must be a list, not {kind_of(limits)}")
    items: list[LimitRangeItem] = []
    notes: list[PlatformNote] = []
    types: dict[str, int] = {}
    for i, item_node in enumerate(limits.value):
        where = f"spec.limits[{i}]"
        item, type_node = _item(item_node, src, where)
        if item.type in types:
            # ValidateLimitRange refuses a second item of the same type.
            first = types[item.type]
            raise src.error(type_node, f"{where}.type", f"duplicate type {shown(item.type)} (first at line {first})")
        types[item.type] = src.line(type_node)
        for key, reason in item.problems():
            line = item.lines.get(key, item.line)
            why = f"the API server refuses it: {reason}"
            raise PlatformConfigError(src.path, line, src.key(f"{where}.{key}", None), why)
        if item.type == "PersistentVolumeClaim":
            notes.append(src.note(item_node, where, "applies to PersistentVolumeClaims, not to task pods"))
        items.append(item)
    return LimitRangeSpec(name, tuple(items), path=src.path, line=src.line(node), notes=tuple(notes))


def _item(node: yaml.Node, src: Source, where: str) -> tuple[LimitRangeItem, yaml.Node]:
    sections: dict[str, dict[str, Quantity]] = {}
    lines: dict[str, int] = {}
    type_node: yaml.Node | None = None
    for key, key_node, value in pairs(node, src, where):
        if key == "type":
            type_node = value
            continue
        if key not in _SECTIONS:
            known = ", ".join(["type", *_SECTIONS])
            raise src.error(key_node, join(where, key), f"unknown key; a LimitRange item has {known}")
        if is_null(value):
            continue
        values: dict[str, Quantity] = {}
        for name, _, q_node in pairs(value, src, join(where, key)):
            values[name] = quantity(q_node, src, f"{where}.{key}.{name}")
            lines[f"{key}.{name}"] = src.line(q_node)
        sections[_SECTIONS[key]] = values
    limit_type = scalar(type_node)
    if type_node is None or limit_type is None:
        raise src.error(node, f"{where}.type", "is required (Container, Pod or PersistentVolumeClaim)")
    if limit_type not in LIMIT_TYPES:
        raise src.error(type_node, f"{where}.type", f"{shown(limit_type)} is not one of {', '.join(LIMIT_TYPES)}")
    item = LimitRangeItem(limit_type, **sections, line=src.line(node), lines=lines)  # type: ignore[arg-type]
    return item, type_node


def parse_limitranges(text: str, path: str = "<limitrange>") -> tuple[LimitRangeSpec, ...]:
    """Every LimitRange in YAML text (one or several documents, or a ``kind: List``).

    >>> (lr,) = parse_limitranges("kind: LimitRange\\nmetadata: {name: mem}\\nspec:\\n  limits:\\n"
    ...                           "  - type: Container\\n    max: {memory: 4Gi}\\n")
    >>> lr.name, str(lr.items[0].default["memory"]), lr.where(lr.items[0], "default.memory")
    ('mem', '4Gi', '<limitrange>:6')
    """
    src = Source(path)
    docs, objects = _objects(text, src)
    found = tuple(limitrange_from_node(node, src) for kind, node in objects if kind == "LimitRange")
    if not found:
        raise _none_found(docs, src, "LimitRange")
    return found


def load_limitranges(path: str | Path) -> tuple[LimitRangeSpec, ...]:
    """Read every LimitRange from a manifest file (see `parse_limitranges`)."""
    return parse_limitranges(read_text(path), str(path))


def limitranges_of(values: LimitRangeSpec | Sequence[LimitRangeSpec]) -> tuple[LimitRangeSpec, ...]:
    """One LimitRange or several, as a tuple."""
    return (values,) if isinstance(values, LimitRangeSpec) else tuple(values)
