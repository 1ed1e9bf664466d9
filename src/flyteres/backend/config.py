"""The platform a task runs on: flyteadmin's task resource defaults and limits, and the k8s plugin's defaults.

Shapes read, all as real deployments write them (each with the line of every
value, so a bad file is refused with the line and the key at fault):

- flyteadmin's own config file: a top-level ``task_resources:`` section
  (flyteadmin ``pkg/runtime/task_resource_provider.go`` registers the section
  under that key, with ``defaults`` and ``limits``); the same file may hold
  the k8s plugin's ``plugins.k8s`` section (propeller's config, or the single
  binary's);
- a ConfigMap as ``kubectl get configmap NAME -o yaml`` prints it (alone, in
  a ``kind: List`` or among other documents): each ``*.yaml`` entry of its
  ``data`` is one config file, merged in name order, a later file's value
  winning, as flytestdlib merges the files of its config directory
  (``config/viper/collection.go`` ``MergeAllConfigs``). The flyte-core chart
  puts ``task_resources`` in ``task_resource_defaults.yaml`` of flyteadmin's
  ConfigMap and ``plugins.k8s`` in ``k8s.yaml`` of propeller's; the
  flyte-binary chart puts ``configuration.inline`` in ``100-inline-config.yaml``;
- Helm values of the flyte-core chart: ``configmap.task_resource_defaults.task_resources``
  and ``configmap.k8s.plugins.k8s``;
- Helm values of the flyte-binary chart: ``configuration.inline.task_resources``
  and ``configuration.inline.plugins.k8s`` (also under ``flyte-binary:``, as the
  sandbox chart nests them);
- ``task_resource_defaults:`` holding ``defaults``/``limits`` directly (how the
  flytekit guide abbreviates it), or a bare ``defaults``/``limits`` mapping;
- a flytectl ``task-resource-attribute`` file (``defaults``/``limits`` with
  ``project``/``domain``/``workflow``).

**Built-ins.** flyteadmin registers ``task_resources`` with values of its own
(defaults cpu 2, memory 200Mi; limits cpu 2, memory 1Gi, gpu 1) and
flytestdlib decodes the config onto a copy of them (``config/viper/viper.go``
``parseViperConfigRecursive``: ``DeepCopyConfig``, then mapstructure into the
copy), so every key a file leaves out — or sets to null, which viper drops —
keeps its built-in value. A zero is a value: it means "none" (the flyte-sandbox
chart zeroes every limit for that reason). With the flyte-core chart, Helm
first fills what the values leave out from the chart's own ``values.yaml``
(defaults cpu 100m, memory 500Mi; limits cpu 2, memory 1Gi, gpu 1); a null
there removes the chart's value, so flyteadmin's applies. An attribute file
is complete by itself: when a task resource attribute matches, flyteadmin
uses its values alone (``manager/impl/util/resources.go`` ``GetTaskResources``).
``complete=True`` says a file states every value (a setup whose built-ins
differ): what it leaves out is then none.

The k8s plugin's ``default-cpus`` and ``default-memory`` (built in: 1000m and
1024Mi, ``flytek8s/config/config.go``) are what a Flyte 2 task falls back to:
the Flyte 2 executor passes no platform resources, and ``resolvePlatformDefaults``
(``flytek8s/container_helper.go``) fills cpu and memory from them.

Inside ``defaults``/``limits`` flyteadmin knows ``cpu``, ``gpu``, ``memory``,
``storage`` and ``ephemeralStorage`` (the JSON tags of ``TaskResourceSet`` in
``flyteadmin/pkg/runtime/interfaces/task_resource_configuration.go``; keys match
without regard to case). A flytectl attribute file is protobuf
``TaskResourceSpec``, where the field is ``ephemeral_storage``. Any other key is
refused: flyteadmin would silently ignore it, so the value would never apply.
``storage`` is read but nothing in flyteadmin applies it to a task any more;
loading it leaves a note.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from flyteres._errors import ResourceSpecError
from flyteres.backend.files import (
    PlatformConfigError,
    PlatformNote,
    Source,
    child,
    compose,
    kind_of,
    manifests,
    pairs,
    read_text,
)
from flyteres.backend.flyteconfig import SECTIONS, Parts, PlatformForm, Stated, configmap_parts, document_parts
from flyteres.backend.manifests import POD_QUOTA_KEYS, QuotaSpec, load_quotas, parse_quotas
from flyteres.core.quantity import Quantity
from flyteres.core.spec import Resource, resource_name

# QuotaSpec and its readers live in flyteres.backend.manifests; they are named here too, where they used to be.
__all__ = [
    "FLYTEADMIN_BUILTINS",
    "FLYTE_CORE_CHART_DEFAULTS",
    "K8S_PLUGIN_BUILTINS",
    "PLATFORM_RESOURCES",
    "POD_QUOTA_KEYS",
    "PlatformConfig",
    "PlatformConfigError",
    "PlatformForm",
    "PlatformNote",
    "QuotaSpec",
    "load_platform",
    "load_quotas",
    "parse_platform",
    "parse_quotas",
    "platform_from_configmaps",
]

#: The resources flyteadmin defaults and limits, in Flyte's order.
PLATFORM_RESOURCES: tuple[Resource, ...] = (
    Resource.CPU,
    Resource.MEMORY,
    Resource.GPU,
    Resource.EPHEMERAL_STORAGE,
)

_Q = Quantity.parse
#: flyteadmin's registered task_resources (flyteadmin/pkg/runtime/task_resource_provider.go, flyteorg/flyte v1.16).
FLYTEADMIN_BUILTINS: Mapping[str, Mapping[Resource, Quantity]] = MappingProxyType(
    {
        "defaults": MappingProxyType({Resource.CPU: _Q("2"), Resource.MEMORY: _Q("200Mi")}),
        "limits": MappingProxyType({Resource.CPU: _Q("2"), Resource.MEMORY: _Q("1Gi"), Resource.GPU: _Q("1")}),
    }
)
#: The flyte-core chart's configmap.task_resource_defaults.task_resources (charts/flyte-core/values.yaml, v1.16.8).
FLYTE_CORE_CHART_DEFAULTS: Mapping[str, Mapping[Resource, Quantity]] = MappingProxyType(
    {
        "defaults": MappingProxyType({Resource.CPU: _Q("100m"), Resource.MEMORY: _Q("500Mi")}),
        "limits": MappingProxyType({Resource.CPU: _Q("2"), Resource.MEMORY: _Q("1Gi"), Resource.GPU: _Q("1")}),
    }
)
#: The k8s plugin's default-cpus and default-memory (flyteplugins flytek8s/config/config.go).
K8S_PLUGIN_BUILTINS: Mapping[Resource, Quantity] = MappingProxyType(
    {Resource.CPU: _Q("1000m"), Resource.MEMORY: _Q("1024Mi")}
)
# The flyte-core chart's configmap.k8s.plugins.k8s (charts/flyte-core/values.yaml, v1.16.8).
_FLYTE_CORE_CHART_K8S: Mapping[Resource, Quantity] = MappingProxyType(
    {Resource.CPU: _Q("100m"), Resource.MEMORY: _Q("100Mi")}
)


def _freeze(where: str, values: Mapping[Any, Any] | None) -> Mapping[Resource, Quantity]:
    out: dict[Resource, Quantity] = {}
    for key, value in (values or {}).items():
        name = resource_name(key)
        try:
            out[name] = Quantity.from_value(value)
        except (ValueError, TypeError) as exc:
            raise ResourceSpecError(f"{where}.{name}", value, str(exc)) from None
    return MappingProxyType({r: out[r] for r in Resource if r in out})


@dataclass(frozen=True)
class PlatformConfig:
    """flyteadmin's task resource defaults and limits, and the k8s plugin's defaults.

    A zero or missing value means "none": flyteadmin skips zero limits
    (``taskResourceSetToMap``) and the backend treats a zero default as unset
    (``AdjustOrDefaultResource`` tests ``IsZero``). A config built in code
    holds exactly the values given; one read from a file also holds the
    built-ins the file leaves in place, each named in ``origins``.

    >>> p = PlatformConfig(defaults={"cpu": "500m", "memory": "1Gi"}, limits={"memory": "8Gi"})
    >>> str(p.limit("memory")), p.default("gpu")
    ('8Gi', None)
    """

    defaults: Mapping[Resource, Quantity] = field(default_factory=dict)
    limits: Mapping[Resource, Quantity] = field(default_factory=dict)
    path: str | None = None
    notes: tuple[PlatformNote, ...] = ()
    # "defaults.cpu" -> line, for messages that point into the file.
    lines: Mapping[str, int] = field(default_factory=dict, repr=False, compare=False)
    form: PlatformForm = PlatformForm.CODE
    #: Whether values left out mean "none" rather than a built-in (Flyte 2's k8s defaults included).
    complete: bool = False
    #: The k8s plugin's default-cpus / default-memory the file sets (Flyte 2 falls back to them).
    plugin_defaults: Mapping[Resource, Quantity] = field(default_factory=dict)
    # "limits.gpu" -> ("flyteadmin's built-in", "the file does not set limits.gpu"): values that are not the file's.
    origins: Mapping[str, tuple[str, str]] = field(default_factory=dict, repr=False, compare=False)
    #: The accelerator labels the platform's GPU nodes carry (``flyteres.node_accelerators`` in the file,
    #: or the ``flyteres.io/node-accelerators`` annotation of a ConfigMap); None when the file does not say.
    node_accelerators: frozenset[str] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "defaults", _freeze("defaults", self.defaults))
        object.__setattr__(self, "limits", _freeze("limits", self.limits))
        object.__setattr__(self, "plugin_defaults", _freeze("plugin_defaults", self.plugin_defaults))
        object.__setattr__(self, "lines", MappingProxyType(dict(self.lines)))
        object.__setattr__(self, "origins", MappingProxyType(dict(self.origins)))
        object.__setattr__(self, "notes", tuple(self.notes))
        object.__setattr__(self, "form", PlatformForm.parse(self.form))

    def default(self, name: str | Resource) -> Quantity | None:
        """The platform default for one resource, or None when there is none (or it is zero)."""
        q = self.defaults.get(resource_name(name))
        return None if q is None or q.is_zero() else q

    def limit(self, name: str | Resource) -> Quantity | None:
        """The platform limit for one resource, or None when there is none (or it is zero)."""
        q = self.limits.get(resource_name(name))
        return None if q is None or q.is_zero() else q

    def where(self, key: str) -> str:
        """``path:line`` of a value (``"limits.memory"``), or just the path when unknown."""
        line = self.lines.get(key)
        path = self.path or "<platform>"
        return path if line is None else f"{path}:{line}"

    def origin(self, key: str) -> str | None:
        """Where a value the file does not state comes from, or None for the file's own (and code's) values.

        >>> p = parse_platform("task_resources:\\n  defaults:\\n    cpu: 500m\\n", "admin.yaml")
        >>> p.origin("defaults.memory"), p.origin("defaults.cpu")
        ("flyteadmin's built-in default (the file does not set defaults.memory)", None)
        """
        found = self.origins.get(key)
        if found is None:
            return None
        noun = "default" if key.startswith(("defaults.", "k8s.")) else "limit"
        return f"{found[0]} {noun} ({found[1]})"

    def builtins(self) -> tuple[str, ...]:
        """The keys whose value is a built-in rather than the file's (``"limits.gpu"``...)."""
        return tuple(self.origins)

    def builtins_note(self) -> PlatformNote | None:
        """One note naming the flyteadmin values the file leaves to built-ins, for reports (None: there are none).

        >>> note = parse_platform("task_resources:\\n  limits: {memory: 8Gi}\\n", "admin.yaml").builtins_note()
        >>> note.message.split(" (")[0]
        'values the file leaves out: defaults.cpu = 2, defaults.memory = 200Mi, limits.cpu = 2, limits.gpu = 1'
        """
        keys = [k for k in self.origins if not k.startswith("k8s.")]
        if not keys:
            return None
        labels = {"flyteadmin's built-in": "flyteadmin's built-ins", "the flyte-core chart's": "the flyte-core chart's"}
        sources = {self.origins[k][0] for k in keys}
        items = []
        for k in keys:
            section, name = k.split(".", 1)
            value = (self.defaults if section == "defaults" else self.limits)[resource_name(name)]
            items.append(f"{k} = {value}" + ("" if len(sources) == 1 else f" ({self.origins[k][0]})"))
        label = f" ({labels.get(sources.pop(), 'built-ins')})" if len(sources) == 1 else ""
        return PlatformNote(
            self.path or "<platform>",
            self.lines.get("task_resources", 1),
            "task_resources",
            f"values the file leaves out: {', '.join(items)}{label}; "
            "pass --platform-complete if the file states every value",
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "defaults": {str(k): v.text for k, v in self.defaults.items()},
            "limits": {str(k): v.text for k, v in self.limits.items()},
        }


def platform_from_configmaps(
    configmaps: list[yaml.Node], src: Source, *, complete: bool = False, require: bool = True
) -> PlatformConfig | None:
    """The platform Flyte's ConfigMaps among some manifests configure (see the module docstring).

    When none of them sets ``task_resources`` or ``plugins.k8s``: the
    built-ins with ``require`` (the file was given as the platform), else None.
    """
    parts, notes = configmap_parts(configmaps, src)
    if parts is None:
        if not require:
            return None
        parts = Parts(PlatformForm.CONFIGMAP, admin_prefix="task_resources")
    return _resolve(parts, src, complete, notes)


# -- built-ins -------------------------------------------------------------------------------------------------


def _resolve(parts: Parts, src: Source, complete: bool, notes: list[PlatformNote] | None = None) -> PlatformConfig:
    """The values flyteadmin (and the k8s plugin) end up with: the file's, then the chart's, then the built-ins."""
    values: dict[str, dict[Resource, Quantity]] = {"defaults": {}, "limits": {}}
    lines: dict[str, int] = {}
    origins: dict[str, tuple[str, str]] = {}
    admin = parts.admin or Stated()
    all_notes = [*(notes or ()), *admin.notes]
    if parts.admin is not None:
        lines["task_resources"] = parts.admin.line
    builtins_apply = not complete and parts.form is not PlatformForm.ATTRIBUTE
    for section in SECTIONS:
        for r in (*PLATFORM_RESOURCES, Resource.STORAGE):
            key = f"{section}.{r}"
            stated = admin.values.get(key)
            if stated is not None:
                values[section][r] = stated
                lines[key] = admin.lines[key]
                continue
            if not builtins_apply:
                continue
            why = _why_missing(parts, key, admin)
            chart = FLYTE_CORE_CHART_DEFAULTS[section].get(r)
            dropped = key in admin.values or bool(admin.nulled & {"", section})
            if parts.form is PlatformForm.FLYTE_CORE_VALUES and chart is not None and not dropped:
                values[section][r] = chart
                origins[key] = ("the flyte-core chart's", why)
                continue
            builtin = FLYTEADMIN_BUILTINS[section].get(r)
            if builtin is not None:
                values[section][r] = builtin
                origins[key] = ("flyteadmin's built-in", why)
    plugin_defaults: dict[Resource, Quantity] = {}
    plugin = parts.plugin or Stated()
    all_notes += plugin.notes
    for r in (Resource.CPU, Resource.MEMORY):
        key = f"k8s.{r}"
        stated = plugin.values.get(key)
        if stated is not None:
            plugin_defaults[r] = stated
            lines[key] = plugin.lines[key]
        elif parts.form is PlatformForm.FLYTE_CORE_VALUES and not complete and key not in plugin.values:
            plugin_defaults[r] = _FLYTE_CORE_CHART_K8S[r]
            origins[key] = ("the flyte-core chart's", f"the file does not set configmap.k8s.plugins.k8s.{_k8s_key(r)}")
    _default_above_limit(values, lines, origins, src, all_notes)
    return PlatformConfig(
        values["defaults"],
        values["limits"],
        path=src.path,
        notes=tuple(all_notes),
        lines=lines,
        form=parts.form,
        complete=complete,
        plugin_defaults=plugin_defaults,
        origins=origins,
    )


def _k8s_key(r: Resource) -> str:
    return "default-cpus" if r is Resource.CPU else "default-memory"


def _why_missing(parts: Parts, key: str, admin: Stated) -> str:
    if parts.admin is None:
        if parts.form is PlatformForm.CONFIGMAP:
            return "no data entry of the ConfigMap sets task_resources"
        return "the file sets no task_resources"
    if key in admin.values or admin.nulled & {"", key.split(".", maxsplit=1)[0]}:
        return f"the file sets {key} to null"
    return f"the file does not set {key}"


def _default_above_limit(
    values: dict[str, dict[Resource, Quantity]],
    lines: dict[str, int],
    origins: dict[str, tuple[str, str]],
    src: Source,
    notes: list[PlatformNote],
) -> None:
    for r in PLATFORM_RESOURCES:
        d, lim = values["defaults"].get(r), values["limits"].get(r)
        stated = [k for k in (f"defaults.{r}", f"limits.{r}") if k in lines]
        if d is None or lim is None or lim.is_zero() or d <= lim or not stated:
            continue
        builtin = "" if f"defaults.{r}" in lines else f" ({origins[f'defaults.{r}'][0]} default)"
        notes.append(
            PlatformNote(
                src.path,
                lines[stated[0]],
                f"defaults.{r}",
                f"the default {d.text}{builtin} is above the limit {lim.text}; tasks that use the default get "
                f"{lim.text}",
            )
        )


def parse_platform(text: str, path: str = "<platform>", *, complete: bool = False) -> PlatformConfig:
    """Read flyteadmin's task resource defaults and limits (and the k8s plugin's defaults) from YAML text.

    ``complete=True``: the file states every value; what it leaves out is
    none rather than a built-in (see the module docstring).

    >>> p = parse_platform("task_resources:\\n  defaults: {cpu: 500m, memory: 1Gi}\\n  limits: {memory: 8Gi}\\n")
    >>> str(p.default("cpu")), str(p.limit("memory")), p.lines["limits.memory"], str(p.limit("gpu"))
    ('500m', '8Gi', 3, '1')
    """
    src = Source(path)
    docs = compose(text, src)
    if not docs:
        raise src.error(None, None, "the file is empty")
    if all(child(d, "kind", src) is not None for d in docs):
        objects = list(manifests(docs, src))
        configmaps = [node for kind, node in objects if kind == "ConfigMap"]
        if not configmaps:
            kinds = ", ".join(sorted({str(k) for k, _ in objects})) or "nothing"
            raise src.error(
                docs[0], "kind", f"no ConfigMap in this file (found {kinds}); quotas and LimitRanges go to --cluster"
            )
        platform = platform_from_configmaps(configmaps, src, complete=complete)
        assert platform is not None
        return _with_node_accelerators(platform, _annotated_accelerators(configmaps, src))
    if len(docs) > 1:
        raise src.error(docs[1], None, "holds several YAML documents; keep the one config")
    return _with_node_accelerators(
        _resolve(document_parts(docs[0], src), src, complete), _node_accelerators(docs[0], src)
    )


# -- the nodes' accelerator labels (flyteres' own key: no Flyte config states them) ---------------------------

_NODE_ACCELERATORS_ANNOTATION = "flyteres.io/node-accelerators"


def _with_node_accelerators(platform: PlatformConfig, found: tuple[frozenset[str], int] | None) -> PlatformConfig:
    if found is None:
        return platform
    labels, line = found
    return replace(platform, node_accelerators=labels, lines={**platform.lines, "flyteres.node_accelerators": line})


def _node_accelerators(root: yaml.Node, src: Source) -> tuple[frozenset[str], int] | None:
    """``flyteres: {node_accelerators: [nvidia-h100, ...]}`` at the top of a config or values file."""
    section = child(root, "flyteres", src)
    if section is None:
        return None
    if not isinstance(section, yaml.MappingNode):
        raise src.error(section, "flyteres", f"must be a mapping, not {kind_of(section)}")
    node: yaml.Node | None = None
    for key, key_node, value in pairs(section, src, "flyteres"):
        if key != "node_accelerators":
            raise src.error(key_node, f"flyteres.{key}", "unknown key (flyteres knows node_accelerators)")
        node = value
    if node is None:
        return None
    if not isinstance(node, yaml.SequenceNode) or not all(
        isinstance(item, yaml.ScalarNode) and item.value for item in node.value
    ):
        raise src.error(node, "flyteres.node_accelerators", "must be a list of node label values (nvidia-h100, ...)")
    return frozenset(str(item.value) for item in node.value), src.line(node)


def _annotated_accelerators(configmaps: list[yaml.Node], src: Source) -> tuple[frozenset[str], int] | None:
    """The ``flyteres.io/node-accelerators`` annotation (comma-separated) of Flyte's ConfigMaps."""
    out: set[str] = set()
    line = None
    for cm in configmaps:
        annotations = child(child(cm, "metadata", src) or cm, "annotations", src)
        value = child(annotations, _NODE_ACCELERATORS_ANNOTATION, src) if annotations is not None else None
        if value is None:
            continue
        if not isinstance(value, yaml.ScalarNode):
            raise src.error(value, _NODE_ACCELERATORS_ANNOTATION, "must be a comma-separated string")
        out |= {label.strip() for label in str(value.value).split(",") if label.strip()}
        line = src.line(value)
    return None if line is None else (frozenset(out), line)


def load_platform(path: str | Path, *, complete: bool = False) -> PlatformConfig:
    """Read a flyteadmin config, Helm values, ConfigMap or flytectl attribute file (see `parse_platform`)."""
    return parse_platform(read_text(path), str(path), complete=complete)
