"""Reading Flyte's config in each form it comes in: which sections a file states, and where.

The forms, and which built-ins stand behind each, are described in
`flyteres.backend.config`; this module only finds ``task_resources`` (and its
Helm spellings) and ``plugins.k8s`` in a file and reads what they state.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml

from flyteres.backend.files import (
    PlatformNote,
    Source,
    child,
    embedded,
    is_null,
    join,
    kind_of,
    name_of,
    pairs,
    quantity,
    shown,
)
from flyteres.core.options import Choice
from flyteres.core.quantity import Quantity
from flyteres.core.spec import Resource

__all__ = ["SECTIONS", "Parts", "PlatformForm", "Stated", "configmap_parts", "document_parts"]

_PLUGIN_KEYS = {"default-cpus": Resource.CPU, "default-memory": Resource.MEMORY}

# flyteadmin's TaskResourceSet JSON tags, lower-cased (the config loader matches keys without case).
_ADMIN_KEYS: dict[str, Resource] = {
    "cpu": Resource.CPU,
    "gpu": Resource.GPU,
    "memory": Resource.MEMORY,
    "storage": Resource.STORAGE,
    "ephemeralstorage": Resource.EPHEMERAL_STORAGE,
}
# A flytectl attribute file is the admin TaskResourceSpec message: protobuf's
# JSON mapping takes the field name and its lowerCamelCase form.
_ATTRIBUTE_KEYS: dict[str, Resource] = {**_ADMIN_KEYS, "ephemeral_storage": Resource.EPHEMERAL_STORAGE}
_ATTRIBUTE_SCOPE_KEYS = frozenset({"project", "domain", "workflow", "launch_plan", "launchplan", "org"})
_KNOWN_SPELLINGS = "cpu, gpu, memory, storage, ephemeralStorage"
SECTIONS = ("defaults", "limits")


class PlatformForm(Choice):
    """Which kind of file a `PlatformConfig` was read from, which decides the built-ins behind it."""

    CODE = "code"
    CONFIG = "config"
    CONFIGMAP = "configmap"
    FLYTE_CORE_VALUES = "flyte-core-values"
    FLYTE_BINARY_VALUES = "flyte-binary-values"
    ATTRIBUTE = "attribute"


# -- what a file states -----------------------------------------------------------------------------------------


@dataclass
class Stated:
    """The values one section states: ``"defaults.cpu"`` -> quantity, or None where the file writes null."""

    values: dict[str, Quantity | None] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)
    # Sections written as null ("defaults", "limits", or "" for the whole section): Helm drops the chart's values.
    nulled: set[str] = field(default_factory=set)
    notes: list[PlatformNote] = field(default_factory=list)
    line: int = 1

    def update(self, later: Stated) -> None:
        """A later config file over this one: each key it states wins (viper's MergeConfig)."""
        for section in later.nulled:
            for key in [k for k in self.values if k.startswith(section)]:
                del self.values[key]
        self.values.update(later.values)
        self.lines.update(later.lines)
        self.nulled |= later.nulled
        self.notes += later.notes
        self.line = later.line


def _read_admin(block: yaml.Node, src: Source, prefix: str, *, attribute_file: bool, top: bool) -> Stated:
    """The ``defaults``/``limits`` a task_resources block states."""
    stated = Stated(line=src.line(block))
    if is_null(block):
        stated.nulled.add("")
        return stated
    allowed = _ATTRIBUTE_KEYS if attribute_file else _ADMIN_KEYS
    for section, key_node, value_node in pairs(block, src, prefix):
        where = join(prefix, section)
        if section not in SECTIONS:
            if top and section.lower() in _ATTRIBUTE_SCOPE_KEYS:
                # Which project/domain/workflow an attribute file targets does not change the values.
                continue
            raise src.error(key_node, where, "unknown key; expected defaults or limits")
        if is_null(value_node):
            stated.nulled.add(section)
            continue
        seen: set[Resource] = set()
        for name, name_node, q_node in pairs(value_node, src, where):
            key = join(where, name)
            resource = allowed.get(name.lower())
            if resource is None:
                raise src.error(name_node, key, _unknown_resource(name, attribute_file))
            if resource in seen:
                raise src.error(name_node, key, "given twice under different spellings")
            seen.add(resource)
            if is_null(q_node):
                stated.values[f"{section}.{resource}"] = None
                continue
            stated.values[f"{section}.{resource}"] = quantity(q_node, src, key)
            stated.lines[f"{section}.{resource}"] = src.line(q_node)
            if resource is Resource.STORAGE:
                stated.notes.append(
                    src.note(
                        name_node,
                        key,
                        "flyteadmin reads 'storage' but applies it to no task; ephemeral storage is 'ephemeralStorage'",
                    )
                )
    return stated


def _read_plugin(block: yaml.Node, src: Source, prefix: str) -> Stated:
    """``default-cpus``/``default-memory`` of a ``plugins.k8s`` section, as ``k8s.cpu``/``k8s.memory``."""
    stated = Stated(line=src.line(block))
    if is_null(block):
        return stated
    for name, key_node, value_node in pairs(block, src, prefix):
        key = join(prefix, name)
        resource = _PLUGIN_KEYS.get(name.lower())
        if resource is None:
            low = name.lower().replace("_", "-")
            if low.startswith("default") and ("cpu" in low or "mem" in low):
                spelled = "default-cpus" if "cpu" in low else "default-memory"
                stated.notes.append(
                    src.note(key_node, key, f"the k8s plugin ignores this key; its setting is {spelled}")
                )
            continue
        if is_null(value_node):
            stated.values[f"k8s.{resource}"] = None
            continue
        stated.values[f"k8s.{resource}"] = quantity(value_node, src, key)
        stated.lines[f"k8s.{resource}"] = src.line(value_node)
    return stated


def _unknown_resource(name: str, attribute_file: bool) -> str:
    low = name.lower().replace("-", "").replace("_", "")
    hint = ""
    if low in ("ephemeralstorage", "disk"):
        hint = f"; flyteadmin spells it {'ephemeral_storage or ' if attribute_file else ''}ephemeralStorage"
    elif low == "mem":
        hint = "; flyteadmin spells it memory"
    elif low in ("nvidiacom/gpu", "gpus"):
        hint = "; flyteadmin spells it gpu"
    known = f"{_KNOWN_SPELLINGS}, ephemeral_storage" if attribute_file else _KNOWN_SPELLINGS
    return f"unknown resource {shown(name)} (flyteadmin would ignore it, so it would never apply){hint}; known: {known}"


# -- finding the sections in each form -------------------------------------------------------------------------


@dataclass
class Parts:
    form: PlatformForm
    admin: Stated | None = None
    plugin: Stated | None = None
    # The key path of task_resources in the file, for "the file does not set ..." messages.
    admin_prefix: str = ""


def _mapping(node: yaml.Node | None) -> yaml.Node | None:
    return node if isinstance(node, yaml.MappingNode) else None


def _config_parts(root: yaml.Node, src: Source, form: PlatformForm, prefix: str = "", *, plugins: bool = True) -> Parts:
    """A flyte config file (or the inline config of the flyte-binary chart): task_resources and plugins.k8s."""
    parts = Parts(form, admin_prefix=join(prefix, "task_resources"))
    trd = child(root, "task_resource_defaults", src)
    if trd is not None:
        inner = child(trd, "task_resources", src)
        parts.admin_prefix = join(prefix, "task_resource_defaults")
        if inner is not None:
            parts.admin_prefix = join(parts.admin_prefix, "task_resources")
            trd = inner
        parts.admin = _read_admin(trd, src, parts.admin_prefix, attribute_file=False, top=False)
    else:
        tr = child(root, "task_resources", src)
        if tr is not None:
            parts.admin = _read_admin(tr, src, parts.admin_prefix, attribute_file=False, top=False)
    if plugins:
        section = child(root, "plugins", src)
        k8s = child(section, "k8s", src) if section is not None else None
        if k8s is not None:
            parts.plugin = _read_plugin(k8s, src, join(prefix, "plugins.k8s"))
    return parts


# Keys that tell the charts' values apart from any file that happens to have a configmap:/configuration: key.
_FLYTE_CORE_CONFIGMAP_KEYS = frozenset(
    {"task_resource_defaults", "task_resources", "k8s", "adminServer", "core", "domain", "enabled_plugins", "logger"}
)
_FLYTE_BINARY_CONFIGURATION_KEYS = frozenset({"inline", "database", "storage", "logging", "auth", "co-pilot"})
# Sections of flyteadmin's (and propeller's) own config: a file with one of them but no task_resources is a config
# that relies on the built-ins. A file with none (only a logger, say) is more likely the wrong file.
_FLYTE_CONFIG_SECTIONS = frozenset(
    {"server", "flyteadmin", "database", "db", "auth", "propeller", "tasks", "plugins", "admin", "storage", "domains"}
)


def _has_any(node: yaml.Node, keys: frozenset[str], src: Source) -> bool:
    return any(name in keys for name, _, _ in pairs(node, src, ""))


def document_parts(root: yaml.Node, src: Source) -> Parts:
    """Which form one YAML document is, and the sections it states."""
    if not isinstance(root, yaml.MappingNode):
        raise src.error(root, None, f"the file must hold a mapping, not {kind_of(root)}")
    configmap = _mapping(child(root, "configmap", src))
    if configmap is not None and _has_any(configmap, _FLYTE_CORE_CONFIGMAP_KEYS, src):
        # flyte-core Helm values: the chart renders these into its ConfigMaps.
        parts = _config_parts(configmap, src, PlatformForm.FLYTE_CORE_VALUES, "configmap", plugins=False)
        k8s_values = child(configmap, "k8s", src)
        if k8s_values is not None:
            plugins = child(k8s_values, "plugins", src)
            block = child(plugins, "k8s", src) if plugins is not None else None
            if block is not None:
                parts.plugin = _read_plugin(block, src, "configmap.k8s.plugins.k8s")
        return parts
    binary = _mapping(child(root, "flyte-binary", src))
    configuration = _mapping(child(binary if binary is not None else root, "configuration", src))
    if configuration is not None and _has_any(configuration, _FLYTE_BINARY_CONFIGURATION_KEYS, src):
        prefix = "flyte-binary.configuration" if binary is not None else "configuration"
        inline = _mapping(child(configuration, "inline", src))
        if inline is None:
            return Parts(PlatformForm.FLYTE_BINARY_VALUES, admin_prefix=f"{prefix}.inline.task_resources")
        return _config_parts(inline, src, PlatformForm.FLYTE_BINARY_VALUES, f"{prefix}.inline")
    parts = _config_parts(root, src, PlatformForm.CONFIG)
    if parts.admin is not None or parts.plugin is not None or _has_any(root, _FLYTE_CONFIG_SECTIONS, src):
        return parts
    if child(root, "defaults", src) is not None or child(root, "limits", src) is not None:
        keys = {name.lower() for name, _, _ in pairs(root, src, "")}
        attribute_file = bool(keys & _ATTRIBUTE_SCOPE_KEYS)
        admin = _read_admin(root, src, "", attribute_file=attribute_file, top=True)
        return Parts(PlatformForm.ATTRIBUTE if attribute_file else PlatformForm.CONFIG, admin, admin_prefix="")
    raise src.error(
        root,
        None,
        "no task resource defaults found: expected task_resources: (flyteadmin config), "
        "task_resource_defaults: (Helm values), plugins.k8s: (the k8s plugin's config), a ConfigMap "
        "(kubectl get configmap -o yaml) or top-level defaults:/limits: (a flytectl attribute file)",
    )


def configmap_parts(configmaps: list[yaml.Node], src: Source) -> tuple[Parts | None, list[PlatformNote]]:
    """The sections Flyte's ConfigMaps set (None when none sets task_resources or plugins.k8s), and notes."""
    admin: tuple[str, Stated] | None = None
    plugin: tuple[str, Stated] | None = None
    notes: list[PlatformNote] = []
    for cm in configmaps:
        name = name_of(cm, src)
        data = child(cm, "data", src)
        entries = [] if data is None or is_null(data) else pairs(data, src, "data")
        cm_admin: Stated | None = None
        cm_plugin: Stated | None = None
        # Mounted as files of one directory, read in name order (filepath.Glob sorts).
        for entry, key_node, value in sorted(entries, key=lambda e: e[0]):
            label = f"data.{entry}"
            if not entry.endswith(".yaml"):
                if isinstance(value, yaml.ScalarNode) and "task_resources" in str(value.value):
                    notes.append(src.note(key_node, label, "Flyte reads only *.yaml files of its config directory"))
                continue
            docs, inner = embedded(value, src, label)
            if not docs:
                continue
            if len(docs) > 1:
                raise inner.error(docs[1], None, "holds several YAML documents; Flyte reads one config per file")
            parts = _config_parts(docs[0], inner, PlatformForm.CONFIGMAP) if _mapping(docs[0]) is not None else None
            if parts is None:
                raise inner.error(docs[0], None, f"a config file must hold a mapping, not {kind_of(docs[0])}")
            cm_admin = _merged(cm_admin, parts.admin)
            cm_plugin = _merged(cm_plugin, parts.plugin)
        for found, slot, what in ((cm_admin, "admin", "task_resources"), (cm_plugin, "plugin", "plugins.k8s")):
            if found is None:
                continue
            earlier = admin if slot == "admin" else plugin
            if earlier is not None:
                raise src.error(
                    cm,
                    None,
                    f"the ConfigMaps {shown(earlier[0])} and {shown(name)} both set {what}; "
                    "pass the one that Flyte mounts",
                )
            if slot == "admin":
                admin = (name, found)
            else:
                plugin = (name, found)
    if admin is None and plugin is None:
        return None, notes
    parts = Parts(
        PlatformForm.CONFIGMAP,
        None if admin is None else admin[1],
        None if plugin is None else plugin[1],
        "task_resources",
    )
    return parts, notes


def _merged(earlier: Stated | None, later: Stated | None) -> Stated | None:
    if earlier is None or later is None:
        return later if earlier is None else earlier
    earlier.update(later)
    return earlier
