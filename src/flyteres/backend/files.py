"""Reading platform and cluster files: bounded YAML that keeps the line of every value.

Every file flyteres reads about a platform goes through here: flyteadmin and
propeller configs, Helm values, ``kubectl get ... -o yaml`` output of
ConfigMaps, ResourceQuotas and LimitRanges. So every one is bounded the same
way, and every error has the same shape, ``file:line: key: reason``.

Bounds (each refused with the line where it is crossed):

- **size**: at most `MAX_FILE_BYTES` are read from a file;
- **documents**: at most `MAX_DOCUMENTS` YAML documents in one text;
- **nesting**: at most `MAX_DEPTH` levels. PyYAML composes nodes
  recursively, so deeper input would end in ``RecursionError``;
- **aliases**: a node's size with every alias expanded may not pass
  `MAX_NODES`. Aliases share nodes, so composing stays cheap, but anything
  that walks the tree (a ``kind: List`` whose items alias other lists)
  would visit each alias once per reference: a few hundred bytes expand to
  millions of values. An alias inside its own anchor is refused as well;
- **echoed values** are cut to `MAX_SHOWN` characters, so a 5 MB value is
  never a 5 MB error line.

YAML merge keys (``<<: *defaults``) are resolved as YAML 1.1 defines them:
keys written in the mapping win over merged ones, and an earlier merged
mapping wins over a later one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from flyteres._errors import FlyteresError, QuantityError
from flyteres.core.quantity import Quantity

__all__ = [
    "MAX_DEPTH",
    "MAX_DOCUMENTS",
    "MAX_FILE_BYTES",
    "MAX_NODES",
    "MAX_SHOWN",
    "PlatformConfigError",
    "PlatformNote",
    "Source",
    "child",
    "compose",
    "embedded",
    "is_null",
    "join",
    "kind_of",
    "manifests",
    "name_of",
    "pairs",
    "quantity",
    "read_text",
    "scalar",
    "shown",
]

#: The most bytes read from one file. A ConfigMap holds at most 1 MiB of data
#: and Kubernetes stores no object above 1.5 MiB, so real files are far below.
MAX_FILE_BYTES = 4 * 1024 * 1024
#: The most YAML documents in one text.
MAX_DOCUMENTS = 1000
#: The deepest nesting of mappings and lists (Kubernetes manifests need about ten).
MAX_DEPTH = 64
#: The most nodes one text may expand to with every alias followed. A kubectl List of 1,000
#: ResourceQuotas is about 20,000; PyYAML composes about 20,000 nodes a second.
MAX_NODES = 50_000
#: The most characters of a value echoed in a message.
MAX_SHOWN = 200
# Keys and reasons are cut too: a key path is built from the file's own keys.
_MAX_KEY = 2 * MAX_SHOWN
_MAX_REASON = 5 * MAX_SHOWN

_MERGE_TAG = "tag:yaml.org,2002:merge"
_NULL_TAG = "tag:yaml.org,2002:null"
_BOOL_TAG = "tag:yaml.org,2002:bool"


def shown(value: object, limit: int = MAX_SHOWN) -> str:
    """``repr`` of a value from a file, cut to ``limit`` characters with the length said.

    >>> shown("x" * 1000, 10)
    "'xxxxxxxxx…' (1000 characters)"
    """
    text = value if isinstance(value, str) else str(value)
    if len(text) <= limit:
        return repr(text)
    return f"{text[: limit - 1] + '…'!r} ({len(text)} characters)"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[: limit - 1]}… ({len(text)} characters)"


class PlatformConfigError(FlyteresError, ValueError):
    """A platform or cluster file flyteres cannot use: names the file, the line and the key.

    >>> str(PlatformConfigError("admin.yaml", 7, "task_resources.limits.memory", "'12XB' is not a quantity"))
    "admin.yaml:7: task_resources.limits.memory: '12XB' is not a quantity"
    """

    def __init__(self, path: str, line: int | None, key: str | None, reason: str) -> None:
        self.path = path
        self.line = line
        # Both are built from the file's own text, so both are cut (see the module docstring).
        self.key = None if key is None else _cut(key, _MAX_KEY)
        self.reason = _cut(reason, _MAX_REASON)
        where = path if line is None else f"{path}:{line}"
        super().__init__(f"{where}: {self.key}: {self.reason}" if self.key else f"{where}: {self.reason}")


@dataclass(frozen=True)
class PlatformNote:
    """Something a loaded file says that has no effect, or less than it seems to."""

    path: str
    line: int
    key: str
    message: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", _cut(self.key, _MAX_KEY))
        object.__setattr__(self, "message", _cut(self.message, _MAX_REASON))

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.key}: {self.message}"


@dataclass(frozen=True)
class Source:
    """Where nodes come from, to turn a node into ``file:line``.

    A document embedded in a ConfigMap's ``data`` has its own line numbers.
    When it is a literal block (``|``), as ``kubectl get -o yaml`` prints
    it, each of its lines is one line of the file and ``offset`` maps them
    exactly. Otherwise (a quoted string) every node is reported at the
    line of the value (``anchor``) and the key says the line inside it.
    """

    path: str
    offset: int = 0
    anchor: int | None = None
    within: str | None = None

    def line(self, node: yaml.Node) -> int:
        """The 1-based line of a node in the file."""
        if self.anchor is not None:
            return self.anchor
        return self.offset + int(node.start_mark.line) + 1

    def key(self, key: str | None, node: yaml.Node | None) -> str | None:
        """The key as errors name it: prefixed with the line inside an embedded text that has no exact lines."""
        if self.within is None:
            return key
        inner = "" if node is None else f" line {int(node.start_mark.line) + 1}"
        return f"{self.within}{inner}: {key}" if key else f"{self.within}{inner}"

    def error(self, node: yaml.Node | None, key: str | None, reason: str) -> PlatformConfigError:
        """An error at a node (or at the file when there is none)."""
        line = None if node is None else self.line(node)
        return PlatformConfigError(self.path, line, self.key(key, node), reason)

    def note(self, node: yaml.Node, key: str, message: str) -> PlatformNote:
        """A note at a node."""
        return PlatformNote(self.path, self.line(node), self.key(key, node) or key, message)


# -- composing, bounded ----------------------------------------------------------------------------------------


class _BoundError(Exception):
    """A bound crossed, at a 0-based line of the text."""

    def __init__(self, mark: object, reason: str) -> None:
        super().__init__(reason)
        line = getattr(mark, "line", None)
        self.line = line if isinstance(line, int) else None
        self.reason = reason


class _Loader(yaml.SafeLoader):
    """SafeLoader's composer with the depth, alias and size bounds of this module.

    Only nodes are composed (never Python objects), so the constructor's own
    costs never arise.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        # Expanded size of every composed node, by id (the documents keep the nodes alive), and the
        # running total of the text so far: counted as nodes are composed, so a long flat list is
        # refused at the bound, not after it was composed whole.
        self.sizes: dict[int, int] = {}
        self.total = 0

    def _count(self, size: int, mark: object) -> None:
        self.total += size
        if self.total > MAX_NODES:
            raise _BoundError(mark, f"expands to more than {MAX_NODES} values (aliases followed); refused")

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            event = self._peek()
            assert isinstance(event, yaml.AliasEvent)
            target = self.anchors.get(event.anchor)
            if target is not None:
                if id(target) not in self.sizes:
                    # The anchored node is still being composed: the alias is inside it.
                    anchor = _cut(event.anchor or "", MAX_SHOWN)
                    raise _BoundError(event.start_mark, f"the alias *{anchor} is inside its own anchor")
                self._count(self.sizes[id(target)], event.start_mark)
            return super().compose_node(parent, index)
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise _BoundError(self._peek().start_mark, f"nested more than {MAX_DEPTH} levels deep")
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        if node is None:
            return None
        size = 1
        if isinstance(node, yaml.SequenceNode):
            size += sum(self.sizes[id(c)] for c in node.value)
        elif isinstance(node, yaml.MappingNode):
            size += sum(self.sizes[id(k)] + self.sizes[id(v)] for k, v in node.value)
        self.sizes[id(node)] = size
        # The children counted themselves; this node adds one.
        self._count(1, node.start_mark)
        return node

    def _peek(self) -> yaml.Event:
        event: yaml.Event = self.peek_event()  # type: ignore[no-untyped-call]  # PyYAML's stubs leave it untyped
        return event


def compose(text: str, src: Source) -> list[yaml.Node]:
    """Every document of a YAML text as nodes, within the bounds of this module.

    >>> [n.value[0][0].value for n in compose("a: 1\\n---\\nb: 2\\n", Source("f.yaml"))]
    ['a', 'b']
    """
    if len(text) > MAX_FILE_BYTES:
        raise src.error(None, None, f"is larger than {MAX_FILE_BYTES} characters; refused")
    loader = _Loader(text)
    docs: list[yaml.Node] = []
    try:
        while loader.check_node():
            if len(docs) == MAX_DOCUMENTS:
                mark = loader._peek().start_mark
                raise _BoundError(mark, f"holds more than {MAX_DOCUMENTS} YAML documents")
            node = loader.get_node()
            if node is not None:
                docs.append(node)
    except _BoundError as exc:
        raise _error_at(src, exc.line, exc.reason) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "cannot be parsed"
        line = None if mark is None else int(mark.line)
        raise _error_at(src, line, f"not valid YAML: {_cut(problem, MAX_SHOWN)}") from None
    except yaml.YAMLError as exc:
        raise src.error(None, None, f"not valid YAML: {_cut(str(exc), MAX_SHOWN)}") from None
    finally:
        loader.dispose()
    return docs


def _error_at(src: Source, line: int | None, reason: str) -> PlatformConfigError:
    """An error at a 0-based line of the text (None: no line)."""
    if line is None:
        return src.error(None, None, reason)
    key = src.key(None, None) if src.within is None else f"{src.within} line {line + 1}"
    return PlatformConfigError(src.path, src.anchor if src.anchor is not None else src.offset + line + 1, key, reason)


# -- walking nodes ---------------------------------------------------------------------------------------------


def kind_of(node: yaml.Node) -> str:
    """What a node is, for messages: "a mapping", "a list" or the (cut) scalar."""
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return shown(node.value)


def is_null(node: yaml.Node) -> bool:
    """Whether a node is YAML's null (``~``, ``null`` or nothing)."""
    return isinstance(node, yaml.ScalarNode) and node.tag == _NULL_TAG


def join(prefix: str, name: str) -> str:
    """``prefix.name``, or ``name`` alone."""
    return f"{prefix}.{name}" if prefix else name


def pairs(node: yaml.Node, src: Source, key: str, _depth: int = 0) -> list[tuple[str, yaml.Node, yaml.Node]]:
    """(key text, key node, value node) of a mapping, merge keys resolved; anything else is an error.

    A key given twice is refused (YAML keeps the last one: a silent choice
    between two values); a key a merge brings in is not a repeat.

    >>> [(k, v.value) for k, _, v in pairs(compose("a: &x {b: 1, c: 2}\\nd: {<<: *x, c: 3}\\n", Source("f"))[0]
    ...     .value[1][1], Source("f"), "d")]
    [('c', '3'), ('b', '1')]
    """
    if not isinstance(node, yaml.MappingNode):
        raise src.error(node, key or None, f"must be a mapping, not {kind_of(node)}")
    explicit: dict[str, tuple[yaml.Node, yaml.Node]] = {}
    merged: list[yaml.Node] = []
    for k, v in node.value:
        if not isinstance(k, yaml.ScalarNode):
            raise src.error(k, key or None, "a key must be a plain string")
        if k.tag == _MERGE_TAG:
            merged += v.value if isinstance(v, yaml.SequenceNode) else [v]
            continue
        name = str(k.value)
        if name in explicit:
            first = src.line(explicit[name][0])
            raise src.error(k, join(key, name), f"given twice (first at line {first}); keep one")
        explicit[name] = (k, v)
    out = [(name, k, v) for name, (k, v) in explicit.items()]
    if merged:
        if _depth >= MAX_DEPTH:
            raise src.error(node, key or None, f"merge keys nested more than {MAX_DEPTH} levels deep")
        seen = set(explicit)
        for source in merged:
            if not isinstance(source, yaml.MappingNode):
                why = f"a merge key takes a mapping or a list of them, not {kind_of(source)}"
                raise src.error(source, join(key, "<<"), why)
            for name, k, v in pairs(source, src, key, _depth + 1):
                if name not in seen:
                    seen.add(name)
                    out.append((name, k, v))
    return out


def child(node: yaml.Node, name: str, src: Source) -> yaml.Node | None:
    """The value of ``name`` in a mapping (merge keys followed), or None for a missing key or a non-mapping."""
    if not isinstance(node, yaml.MappingNode):
        return None
    for key, _, value in pairs(node, src, ""):
        if key == name:
            return value
    return None


def scalar(node: yaml.Node | None) -> str | None:
    """A scalar node's text, or None for anything else."""
    return str(node.value) if isinstance(node, yaml.ScalarNode) and not is_null(node) else None


def quantity(node: yaml.Node, src: Source, key: str) -> Quantity:
    """A Kubernetes quantity from a scalar: its own text, as the Go loaders hand it to ``resource.ParseQuantity``."""
    if not isinstance(node, yaml.ScalarNode):
        raise src.error(node, key, f"must be a quantity such as '2Gi', not {kind_of(node)}")
    if node.tag == _BOOL_TAG:
        raise src.error(node, key, f"{shown(node.value)} is a boolean, not a Kubernetes quantity")
    text = str(node.value)
    try:
        return Quantity.parse(text)
    except QuantityError as exc:
        raise src.error(node, key, f"{shown(text)} is not a Kubernetes quantity: {exc.reason}") from None


# -- manifests -------------------------------------------------------------------------------------------------


def manifests(docs: list[yaml.Node], src: Source) -> Iterator[tuple[str | None, yaml.Node]]:
    """(kind, node) of every object in the documents, ``kind: List`` (and ``*List``) items expanded.

    Lists inside lists are walked with an explicit stack: through aliases a
    list can be deeper than its text is nested.
    """
    stack: list[tuple[yaml.Node, int]] = [(d, 0) for d in reversed(docs)]
    while stack:
        node, depth = stack.pop()
        if not isinstance(node, yaml.MappingNode):
            raise src.error(node, None, f"a manifest must be a mapping, not {kind_of(node)}")
        kind = scalar(child(node, "kind", src))
        if kind is not None and kind.endswith("List"):
            if depth >= MAX_DEPTH:
                raise src.error(node, "items", f"lists nested more than {MAX_DEPTH} levels deep")
            items = child(node, "items", src)
            if isinstance(items, yaml.SequenceNode):
                stack += [(item, depth + 1) for item in reversed(items.value)]
            elif items is not None and not is_null(items):
                raise src.error(items, "items", f"must be a list, not {kind_of(items)}")
            continue
        yield kind, node


def name_of(node: yaml.Node, src: Source) -> str:
    """``metadata.name`` of a manifest, or ``<unnamed>``."""
    meta = child(node, "metadata", src)
    name = scalar(child(meta, "name", src)) if meta is not None else None
    return "<unnamed>" if name is None else _cut(name, MAX_SHOWN)


def embedded(node: yaml.Node, src: Source, label: str) -> tuple[list[yaml.Node], Source]:
    """The documents of a YAML text held in a string value (a ConfigMap's ``data``), with lines into the file."""
    if not isinstance(node, yaml.ScalarNode):
        raise src.error(node, label, f"must be a string holding YAML, not {kind_of(node)}")
    if node.style == "|" and src.anchor is None:
        # A literal block starts on the line after its indicator, one file line per line of text.
        inner = Source(src.path, offset=src.offset + int(node.start_mark.line) + 1)
    else:
        inner = Source(src.path, anchor=src.line(node), within=label)
    return compose(str(node.value), inner), inner


def read_text(path: str | Path) -> str:
    """A file's text, at most `MAX_FILE_BYTES`; unreadable, oversized and non-UTF-8 files are errors."""
    try:
        with Path(path).open("rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise PlatformConfigError(str(path), None, None, f"cannot be read: {exc.strerror or exc}") from None
    if len(data) > MAX_FILE_BYTES:
        raise PlatformConfigError(str(path), None, None, f"is larger than {MAX_FILE_BYTES} bytes; refused")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PlatformConfigError(str(path), None, None, f"is not UTF-8 text: {exc.reason}") from None
