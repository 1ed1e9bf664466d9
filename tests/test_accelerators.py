"""The accelerator catalog against the installed SDKs: flytekit's constants, flyte's literals, helpers
and serializer, and flyteidl2's AcceleratorModel. Expected values come from running the SDK code, not
from constants restated here, so a new SDK release fails these tests with a list of what changed."""

from __future__ import annotations

import json
import logging
import typing
import warnings
from collections.abc import Callable, Iterator
from importlib import resources
from typing import Any

import flyte
import flyte._resources as flyte_resources
import flytekit.extras.accelerators as fk
import pytest
from flyte._internal.runtime import resources_serde
from flyteidl2.core import tasks_pb2 as v2_tasks_pb2
from typer.testing import CliRunner

import flyteres
from flyteres import accelerators as acc
from flyteres._errors import InvalidPartitionError, UnknownAcceleratorError
from flyteres._pb import AcceleratorModelPb, DeviceClassPb
from flyteres.cli.app import app
from flyteres_pb.v1 import resources_pb2

# ---------------------------------------------------------------------------------------------
# What the installed SDKs know, enumerated from their modules


def _literal(tp: Any) -> list[Any]:
    """Flatten a (possibly nested) Literal into its values."""
    out: list[Any] = []
    for arg in typing.get_args(tp):
        out.extend(_literal(arg) if typing.get_args(arg) else [arg])
    return out


def _flytekit_constants() -> dict[str, fk.BaseAccelerator]:
    return {n: v for n, v in vars(fk).items() if isinstance(v, fk.BaseAccelerator) and not n.startswith("_")}


def _flytekit_partitions() -> list[tuple[str, str, fk.BaseAccelerator]]:
    """(constant, attribute, partitioned instance) for every partition_*/slice_* attribute."""
    out = []
    for name, const in _flytekit_constants().items():
        for attr, value in vars(type(const)).items():
            if isinstance(value, fk.BaseAccelerator):
                out.append((name, attr, value))
    return out


# flyte's helper functions and the Literal of the devices each one takes.
FLYTE_HELPERS: dict[str, tuple[Callable[..., flyte.Device], Any]] = {
    "GPU": (flyte.GPU, flyte_resources.GPUType),
    "TPU": (flyte.TPU, flyte_resources.TPUType),
    "Neuron": (flyte.Neuron, flyte_resources.NeuronType),
    "AMD_GPU": (flyte.AMD_GPU, flyte_resources.AMD_GPUType),
    "HABANA_GAUDI": (flyte.HABANA_GAUDI, flyte_resources.HABANA_GAUDIType),
    "APPLE_SILICON": (flyte.APPLE_SILICON, flyte_resources.AppleSiliconType),
}
ACCELERATOR_STRINGS: list[str] = _literal(flyte_resources.Accelerators)
MIG_PARTITIONS = sorted(
    {
        p
        for t in (
            flyte_resources.A100Parts,
            flyte_resources.A100_80GBParts,
            flyte_resources.H100Parts,
            flyte_resources.H200Parts,
            flyte_resources.RTXPro6000Parts,
        )
        for p in _literal(t)
    }
)
TPU_SLICES = sorted(
    {p for t in (flyte_resources.V5EParts, flyte_resources.V5PParts, flyte_resources.V6EParts) for p in _literal(t)}
)
MODEL_NAMES = [
    v.name for v in v2_tasks_pb2.AcceleratorModel.DESCRIPTOR.values if v.name != "ACCELERATOR_MODEL_UNSPECIFIED"
]
V2_DEVICE_CLASSES = {v.name for v in v2_tasks_pb2.GPUAccelerator.DeviceClass.DESCRIPTOR.values}


def _split(accelerator_string: str) -> tuple[str, int]:
    name, _, count = accelerator_string.partition(":")
    return name, int(count) if count else 1  # "AppleSilicon" alone means one


def _wire(gpu: Any) -> tuple[v2_tasks_pb2.GPUAccelerator, str]:
    """What flyte's serializer emits for Resources(gpu=...): the accelerator and the GPU request."""
    res = flyte.Resources(gpu=gpu)
    ext = resources_serde.get_proto_extended_resources(res)
    assert ext is not None
    proto = resources_serde.get_proto_resources(res)
    assert proto is not None
    (gpu_entry,) = [e for e in proto.requests if e.name == v2_tasks_pb2.Resources.GPU]
    return ext.gpu_accelerator, gpu_entry.value


@pytest.fixture
def flyte_log() -> Iterator[list[str]]:
    """Messages flyte logs. Its logger does not propagate, so caplog cannot see them."""
    records: list[str] = []

    class _Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record.getMessage())

    handler = _Collect(level=logging.WARNING)
    logger = logging.getLogger("flyte")
    logger.addHandler(handler)
    try:
        yield records
    finally:
        logger.removeHandler(handler)


# ---------------------------------------------------------------------------------------------
# flytekit


@pytest.mark.parametrize("constant", sorted(_flytekit_constants()))
def test_flytekit_constant_device(constant: str) -> None:
    idl = _flytekit_constants()[constant].to_flyte_idl()
    entry = acc.resolve(constant)
    assert entry.flytekit_constant == constant
    assert entry.v1_device == idl.device
    assert acc.from_wire(idl.device) is entry
    # The bare constant sets neither half of the oneof (A100 included: no "default partition").
    assert idl.WhichOneof("partition_size_value") is None


@pytest.mark.parametrize(("constant", "attribute"), [(c, a) for c, a, _ in _flytekit_partitions()], ids=str)
def test_flytekit_partition(constant: str, attribute: str) -> None:
    idl = getattr(_flytekit_constants()[constant], attribute).to_flyte_idl()
    entry = acc.resolve(constant)
    assert idl.device == entry.v1_device
    assert idl.partition_size in entry.v1_partitions
    assert entry.validate_partition(idl.partition_size) == idl.partition_size
    assert entry.partition_kind == ("tpu-slice" if attribute.startswith("slice_") else "mig")


@pytest.mark.parametrize("constant", sorted(_flytekit_constants()))
def test_flytekit_partition_lists_agree_with_catalog(constant: str) -> None:
    const = _flytekit_constants()[constant]
    entry = acc.resolve(constant)
    v1 = [p.to_flyte_idl().partition_size for c, _, p in _flytekit_partitions() if c == constant]
    assert list(entry.v1_partitions) == v1
    if v1:
        # Where flytekit has partitions, flyte's list is the same list (A100, A100_80G, TPUs).
        assert entry.partitions == entry.v1_partitions
        unpartitioned = const.unpartitioned.to_flyte_idl()  # type: ignore[attr-defined]
        assert unpartitioned.device == entry.v1_device
        assert unpartitioned.unpartitioned is True


# ---------------------------------------------------------------------------------------------
# flyte 2


@pytest.mark.parametrize("spelling", ACCELERATOR_STRINGS)
def test_flyte_accelerator_string(spelling: str) -> None:
    name, count = _split(spelling)
    entry = acc.resolve(name)
    assert entry.v2_name == name
    assert count in entry.v2_quantities
    accelerator, request = _wire(spelling)
    assert accelerator.device == entry.v2_device
    assert accelerator.device_class == entry.device_class.proto
    assert not accelerator.HasField("partition_size")
    assert request == str(count)
    assert acc.from_wire(accelerator.device, accelerator.device_class) is entry


def _helper_cases() -> list[tuple[str, str, str | None]]:
    cases: list[tuple[str, str, str | None]] = []
    for helper, (_, devices) in FLYTE_HELPERS.items():
        for device in _literal(devices):
            cases.append((helper, device, None))
            cases.extend((helper, device, p) for p in acc.resolve(device).partitions)
    return cases


@pytest.mark.parametrize(("helper", "device", "partition"), _helper_cases(), ids=str)
def test_flyte_helper(helper: str, device: str, partition: str | None) -> None:
    function = FLYTE_HELPERS[helper][0]
    entry = acc.resolve(device)
    assert entry.v2_helper == helper
    if helper == "APPLE_SILICON":
        made = function()
    elif helper == "GPU":
        made = function(device, 1, partition)
    elif helper == "TPU":
        made = function(device, partition)
    else:
        made = function(device)
    accelerator, _ = _wire(made)
    assert accelerator.device == entry.v2_device
    assert accelerator.device_class == entry.device_class.proto
    assert made.device_class == entry.device_class.flyte_name
    if partition is None:
        assert not accelerator.HasField("partition_size")
    else:
        assert accelerator.partition_size == entry.validate_partition(partition)
    # flyte never writes unpartitioned=true: A100.unpartitioned has no v2 form.
    assert not accelerator.HasField("unpartitioned")


@pytest.mark.parametrize("device", _literal(flyte_resources.GPUType))
def test_flyte_gpu_partition_validation_matches_catalog(device: str) -> None:
    """Which MIG partitions flyte.GPU() accepts, found by trying every one flyte knows."""
    entry = acc.resolve(device)
    accepted = []
    for p in MIG_PARTITIONS:
        try:
            flyte.GPU(device, 1, p)
        except ValueError:
            continue
        accepted.append(p)
    if entry.shared:
        assert accepted == []  # a shared GPU takes no partition
    elif entry.partitions:
        assert accepted == sorted(entry.partitions)
    else:
        # flyte checks partitions only for the devices that have a table and passes any other through;
        # the catalog is stricter and says these devices have none.
        assert accepted == MIG_PARTITIONS
        assert entry.partition_kind is None


@pytest.mark.parametrize("device", _literal(flyte_resources.TPUType))
def test_flyte_tpu_slice_validation_matches_catalog(device: str) -> None:
    entry = acc.resolve(device)
    accepted = []
    for p in TPU_SLICES:
        try:
            flyte.TPU(device, p)
        except ValueError:
            continue
        accepted.append(p)
    assert accepted == sorted(entry.partitions)
    assert entry.partition_kind == "tpu-slice"


@pytest.mark.parametrize("name", sorted(resources_serde.ACCELERATOR_DEVICE_MAP))
def test_flyte_device_map(name: str, flyte_log: list[str]) -> None:
    """Every name flyte's serializer maps, including those only a raw Device() reaches (K80, ...)."""
    entry = acc.resolve(name)
    assert name in (entry.v2_name, *entry.deprecated_aliases)
    device = flyte.Device(quantity=1, device_class=entry.device_class.flyte_name, device=name)  # type: ignore[arg-type]
    accelerator, _ = _wire(device)
    assert accelerator.device == entry.v2_device == resources_serde.ACCELERATOR_DEVICE_MAP[name]
    assert bool(flyte_log) == (name in entry.deprecated_aliases)


@pytest.mark.parametrize("alias", sorted(flyte_resources._DEPRECATED_GPU_ALIASES))
def test_flyte_deprecated_alias(alias: str, flyte_log: list[str]) -> None:
    entry = acc.resolve(alias)
    assert alias in entry.deprecated_aliases
    assert entry.v2_name == flyte_resources._DEPRECATED_GPU_ALIASES[alias]
    # flyte 2.12 reports the deprecation with logger.warning, not a DeprecationWarning.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        device = flyte.GPU(alias, 1)  # type: ignore[arg-type]
        string_form, _ = _wire(f"{alias}:1")
    assert not [w for w in caught if issubclass(w.category, DeprecationWarning)]
    assert any("deprecated" in m and alias in m for m in flyte_log)
    assert device.device == entry.v2_name
    assert string_form.device == _wire(device)[0].device == entry.v2_device


@pytest.mark.parametrize("entry", [e for e in acc.catalog() if e.v2_quantities], ids=lambda e: e.name)
def test_flyte_quantity_bound(entry: acc.Accelerator) -> None:
    assert entry.max_quantity == max(entry.v2_quantities)
    for n in entry.v2_quantities:
        flyte.Resources(gpu=f"{entry.v2_name}:{n}")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="gpu must be one of"):
        flyte.Resources(gpu=f"{entry.v2_name}:{entry.max_quantity + 1}")  # type: ignore[arg-type, operator]


def test_shared_devices_are_flytes_shared_gpu_types() -> None:
    shared = [e for e in acc.catalog() if e.shared]
    assert [e.v2_name for e in shared] == _literal(flyte_resources.SharedGPUType)
    for e in shared:
        assert e.shared_of is not None
        base = acc.resolve(e.shared_of)
        assert not base.shared
        assert base.device_class is e.device_class
        assert e.partitions == ()
        assert e.partition_kind is None


def test_device_classes_match_flyte_and_idl() -> None:
    assert sorted(m.flyte_name for m in acc.DeviceClass) == sorted(_literal(flyte_resources.DeviceClass))
    for member in acc.DeviceClass:
        assert resources_serde._DeviceClassToProto[member.flyte_name] == member.proto  # type: ignore[index]
        assert acc.DeviceClass.parse(member.proto) is member
        assert acc.DeviceClass.parse(member.flyte_name) is member
        if member.value in V2_DEVICE_CLASSES:
            assert v2_tasks_pb2.GPUAccelerator.DeviceClass.Value(member.value) == member.proto
            assert DeviceClassPb.Value(member.value) == member.proto
    # flyte 2.12 sends APPLE_SILICON as 5, a number flyteidl2 2.0.51 does not name yet.
    assert "APPLE_SILICON" not in V2_DEVICE_CLASSES
    with pytest.raises(ValueError, match="unknown device class"):
        acc.DeviceClass.parse("FPGA")


# ---------------------------------------------------------------------------------------------
# Completeness: every device any SDK knows is in the catalog, and nothing the SDKs lack is claimed


def test_catalog_covers_every_sdk_spelling() -> None:
    known: dict[str, list[str]] = {
        "flytekit constant": sorted(_flytekit_constants()),
        "flytekit device": sorted({c.to_flyte_idl().device for c in _flytekit_constants().values()}),
        "flyte Accelerators": sorted({_split(s)[0] for s in ACCELERATOR_STRINGS}),
        "flyte ACCELERATOR_DEVICE_MAP key": sorted(resources_serde.ACCELERATOR_DEVICE_MAP),
        "flyte ACCELERATOR_DEVICE_MAP value": sorted(set(resources_serde.ACCELERATOR_DEVICE_MAP.values())),
        "flyte deprecated alias": sorted(flyte_resources._DEPRECATED_GPU_ALIASES),
        "flyte deprecated notation": sorted(resources_serde.DEPRECATED_ACCELERATOR_NOTATIONS),
        "flyteidl2 AcceleratorModel": MODEL_NAMES,
    }
    for helper, (_, devices) in FLYTE_HELPERS.items():
        known[f"flyte {helper}() device"] = _literal(devices)
    missing = []
    for source, spellings in known.items():
        for s in spellings:
            try:
                acc.resolve(s)
            except UnknownAcceleratorError:
                missing.append(f"{source}: {s!r}")
    assert not missing, "add to src/flyteres/accelerators/data/accelerators.json:\n" + "\n".join(missing)


def test_catalog_claims_only_what_the_sdks_have() -> None:
    stale = []
    constants = _flytekit_constants()
    helpers = {d: h for h, (_, devices) in FLYTE_HELPERS.items() for d in _literal(devices)}
    strings: dict[str, list[int]] = {}
    for s in ACCELERATOR_STRINGS:
        name, count = _split(s)
        strings.setdefault(name, []).append(count)
    for e in acc.catalog():
        if e.flytekit_constant is not None and e.flytekit_constant not in constants:
            stale.append(f"{e.name}: flytekit has no constant {e.flytekit_constant}")
        if (
            e.v2_name is not None
            and e.v2_name not in helpers
            and e.v2_name not in resources_serde.ACCELERATOR_DEVICE_MAP
        ):
            stale.append(f"{e.name}: flyte does not know {e.v2_name!r}")
        if e.v2_name is not None and e.v2_helper != helpers.get(e.v2_name):
            stale.append(f"{e.name}: flyte helper is {helpers.get(e.v2_name)}, not {e.v2_helper}")
        if e.v2_name is not None and sorted(set(strings.get(e.v2_name, []))) != list(e.v2_quantities):
            stale.append(f"{e.name}: flyte's NAME:N counts are {strings.get(e.v2_name)}")
        if e.accelerator_model is not None and e.accelerator_model not in MODEL_NAMES:
            stale.append(f"{e.name}: flyteidl2 has no AcceleratorModel {e.accelerator_model}")
        if not (e.flytekit_constant or e.v2_name or e.accelerator_model):
            stale.append(f"{e.name}: no SDK or IDL knows it")
    assert not stale, "\n".join(stale)


def test_accelerator_models_are_one_to_one_and_named_as_the_idl() -> None:
    models = [e.accelerator_model for e in acc.catalog() if e.accelerator_model is not None]
    assert sorted(models) == sorted(MODEL_NAMES)
    for e in acc.catalog():
        if e.accelerator_model is None:
            assert e.model_name is None
            continue
        option = AcceleratorModelPb.DESCRIPTOR.values_by_name[e.accelerator_model].GetOptions()
        assert e.model_name == option.Extensions[resources_pb2.accelerator_name]
        assert acc.resolve(e.accelerator_model) is e
        assert acc.resolve(e.model_name) is e


# ---------------------------------------------------------------------------------------------
# Resolution


def _all_spellings() -> list[tuple[str, acc.Role, acc.Accelerator]]:
    return [(s, role, e) for e in acc.catalog() for s, role in e.spellings()]


def test_no_spelling_names_two_entries() -> None:
    owners: dict[str, set[str]] = {}
    for spelling, _, entry in _all_spellings():
        owners.setdefault(" ".join(spelling.split()).casefold(), set()).add(entry.name)
    collisions = {s: sorted(names) for s, names in owners.items() if len(names) > 1}
    assert not collisions
    assert len({e.name for e in acc.catalog()}) == len(acc.catalog())


@pytest.mark.parametrize(("spelling", "role", "entry"), _all_spellings(), ids=lambda x: str(getattr(x, "name", x)))
def test_every_spelling_resolves_to_its_entry(spelling: str, role: acc.Role, entry: acc.Accelerator) -> None:
    for variant in (spelling, spelling.upper(), spelling.lower(), f"  {spelling} "):
        assert acc.resolve(variant) is entry
    match = acc.explain(spelling)
    assert role in match.roles
    assert match.entry is entry


def test_roles_prefer_the_exact_spelling() -> None:
    assert acc.explain("T4").roles == (acc.Role.NAME, acc.Role.V2_NAME, acc.Role.FLYTEKIT_CONSTANT)
    assert acc.explain("t4").roles == (acc.Role.NODE_LABEL,)
    assert acc.explain("nvidia-tesla-h100").roles == (acc.Role.V2_DEVICE,)
    assert acc.explain("nvidia-h100").roles == (acc.Role.V1_DEVICE, acc.Role.MODEL_NAME)
    assert acc.explain("A100 80G").roles == (acc.Role.DEPRECATED_ALIAS,)
    assert acc.resolve("l40S   SHARED").name == "L40S shared"


def test_sdks_disagree_on_h100_and_h200() -> None:
    h100, h200 = acc.resolve("H100"), acc.resolve("H200")
    assert (h100.v1_device, h100.v2_device) == (fk.H100.to_flyte_idl().device, _wire("H100:1")[0].device)
    assert h100.v1_device != h100.v2_device
    assert h200.v2_device == "H200" != h200.v1_device  # flyte sends H200 unmapped


@pytest.mark.parametrize(
    ("spelling", "suggestion"),
    [("nvidia-tesla-h10", "nvidia-tesla-h100"), ("A100_80", "A100_80G"), ("L4 share", "L4 shared")],
)
def test_unknown_spelling_raises_with_suggestions(spelling: str, suggestion: str) -> None:
    with pytest.raises(UnknownAcceleratorError) as info:
        acc.resolve(spelling)
    assert suggestion in info.value.suggestions
    assert repr(suggestion) in str(info.value)
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, flyteres.FlyteresError)


@pytest.mark.parametrize("spelling", ["", "   ", "qqqqqqqq"])
def test_unknown_spelling_without_close_match(spelling: str) -> None:
    with pytest.raises(UnknownAcceleratorError):
        acc.resolve(spelling, custom=not spelling.strip())  # an empty name is never a custom device


def test_device_class_check() -> None:
    assert acc.resolve("V5E", device_class="TPU").name == "V5E"
    with pytest.raises(acc.DeviceClassMismatchError, match="NVIDIA_GPU, not GOOGLE_TPU"):
        acc.resolve("T4", device_class="TPU")
    with pytest.raises(UnknownAcceleratorError) as info:
        acc.resolve("V5X", device_class=acc.DeviceClass.GOOGLE_TPU)
    assert set(info.value.suggestions) <= {s for s, _, e in _all_spellings() if e.device_class.value == "GOOGLE_TPU"}


def test_custom_devices_only_when_asked() -> None:
    with pytest.raises(UnknownAcceleratorError):
        acc.resolve("nvidia-foo")
    custom = acc.resolve("nvidia-foo", custom=True)
    assert custom.is_custom
    assert custom.device_class is acc.DeviceClass.NVIDIA_GPU
    assert custom.v1_device == fk.GPUAccelerator("nvidia-foo").to_flyte_idl().device
    raw = flyte.Device(quantity=2, device_class="GPU", device="nvidia-foo")
    assert custom.v2_device == _wire(raw)[0].device
    assert custom.partitions == ()
    assert custom.validate_partition("3g.40gb") == "3g.40gb"
    assert acc.explain("nvidia-foo", custom=True).roles == (acc.Role.CUSTOM,)
    tpu = acc.resolve("tpu-v7", custom=True, device_class="TPU")
    assert tpu.device_class is acc.DeviceClass.GOOGLE_TPU
    assert tpu.is_custom
    # A catalog spelling is never custom, even when custom=True.
    assert not acc.resolve("T4", custom=True).is_custom


def test_from_wire() -> None:
    for e in acc.catalog():
        for device in {e.v1_device, e.v2_device} - {None}:
            assert acc.from_wire(device) is e  # type: ignore[arg-type]
            assert acc.from_wire(device, e.device_class.proto) is e  # type: ignore[arg-type]
    # flytekit TPU bytes read through flyteidl2 carry the default class NVIDIA_GPU (0).
    v1_bytes = fk.V5P.slice_2x2x1.to_flyte_idl().SerializeToString()
    as_v2 = v2_tasks_pb2.GPUAccelerator.FromString(v1_bytes)
    assert acc.from_wire(as_v2.device, as_v2.device_class).name == "V5P"
    assert acc.from_wire("AppleSilicon", 5).device_class is acc.DeviceClass.APPLE_SILICON
    with pytest.raises(acc.DeviceClassMismatchError):
        acc.from_wire("nvidia-h100", v2_tasks_pb2.GPUAccelerator.GOOGLE_TPU)
    with pytest.raises(UnknownAcceleratorError):
        acc.from_wire("nvidia-foo")
    custom = acc.from_wire("neuron-x", "NEURON", custom=True)
    assert custom.is_custom
    assert custom.device_class is acc.DeviceClass.AMAZON_NEURON


# ---------------------------------------------------------------------------------------------
# Partitions


@pytest.mark.parametrize(
    ("spelling", "partition"),
    [
        ("A100", "1g.10gb"),
        ("A100_80GB", "1g.5gb"),
        ("T4", "1g.5gb"),
        ("V5E", "2x2x1"),
        ("L4 shared", "1g.5gb"),
    ],
)
def test_invalid_partition(spelling: str, partition: str) -> None:
    entry = acc.resolve(spelling)
    with pytest.raises(InvalidPartitionError) as info:
        entry.validate_partition(partition)
    assert info.value.valid == entry.partitions
    assert info.value.device == entry.name
    for valid in entry.partitions:
        assert repr(valid) in str(info.value)
    if not entry.partitions:
        assert "cannot be partitioned" in str(info.value)


def test_partition_kinds() -> None:
    for e in acc.catalog():
        assert bool(e.partitions) == (e.partition_kind is not None)
        if e.partition_kind == "tpu-slice":
            assert e.device_class is acc.DeviceClass.GOOGLE_TPU
        if e.partition_kind == "mig":
            assert e.device_class is acc.DeviceClass.NVIDIA_GPU
        assert set(e.v1_partitions) <= set(e.partitions)


# ---------------------------------------------------------------------------------------------
# The data file and the API surface

ENTRY_KEYS = [
    "name",
    "device_class",
    "accelerator_model",
    "model_name",
    "v1",
    "v2",
    "partition_kind",
    "partitions",
    "aliases",
    "node_labels",
    "shared",
    "shared_of",
    "notes",
]


def _data() -> dict[str, Any]:
    text = (resources.files("flyteres.accelerators") / "data" / "accelerators.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def test_data_file_schema() -> None:
    data = _data()
    assert list(data) == ["schema_version", "description", "sources", "device_classes", "entries"]
    assert data["schema_version"] == acc.SCHEMA_VERSION == 1
    assert isinstance(data["description"], str)
    assert data["description"]
    assert set(data["sources"]) == {"flytekit", "flyte", "flyteidl2"}
    assert list(data["device_classes"]) == [m.value for m in acc.DeviceClass]
    names = [e["name"] for e in data["entries"]]
    for e in data["entries"]:
        assert list(e) == ENTRY_KEYS, e["name"]
        assert e["device_class"] in data["device_classes"]
        assert e["v1"] is None or list(e["v1"]) == ["constant", "device", "partitions"]
        assert e["v2"] is None or list(e["v2"]) == ["name", "device", "helper", "quantities"]
        assert e["partition_kind"] in (None, "mig", "tpu-slice")
        assert all(list(a) == ["spelling", "deprecated"] for a in e["aliases"])
        assert all(list(n) == ["key", "value"] for n in e["node_labels"])
        assert e["shared"] == (e["shared_of"] is not None)
        assert e["shared_of"] is None or e["shared_of"] in names
        assert isinstance(e["notes"], str)


def test_catalog_and_to_dict() -> None:
    catalog = acc.catalog()
    assert acc.entries() == catalog
    assert acc.catalog() is catalog
    assert [e.name for e in catalog] == [e["name"] for e in _data()["entries"]]
    for e in catalog:
        d = e.to_dict()
        assert json.loads(json.dumps(d)) == d
        assert d["max_quantity"] == e.max_quantity
        assert d["is_custom"] is False
        assert acc.resolve(d["name"]) is e
    assert flyteres.accelerators.resolve("H100") is acc.resolve("H100")
    assert flyteres.UnknownAcceleratorError is UnknownAcceleratorError
    assert flyteres.InvalidPartitionError is InvalidPartitionError


def test_entries_are_frozen() -> None:
    entry = acc.resolve("T4")
    with pytest.raises(AttributeError):
        entry.name = "T5"  # type: ignore[misc]


# ---------------------------------------------------------------------------------------------
# CLI

runner = CliRunner()


def test_cli_list_json() -> None:
    result = runner.invoke(app, ["accelerators", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["schema_version"] == acc.SCHEMA_VERSION
    assert doc["entries"] == [e.to_dict() for e in acc.catalog()]


def test_cli_list_text() -> None:
    result = runner.invoke(app, ["accelerators"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split()[:2] == ["name", "class"]
    assert [line.split()[0] for line in lines[1:]] == [e.name.split()[0] for e in acc.catalog()]


def test_cli_resolve_known() -> None:
    result = runner.invoke(app, ["accelerators", "resolve", "nvidia-tesla-h100"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith("'nvidia-tesla-h100' is H100 (NVIDIA_GPU)")
    assert "v2 device string" in out
    assert "'nvidia-h100'" in out  # what flytekit sends
    assert "1g.10gb" in out  # partitions


def test_cli_resolve_json() -> None:
    result = runner.invoke(app, ["accelerators", "resolve", "A100 80G", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["roles"] == ["deprecated alias"]
    assert doc["entry"] == acc.resolve("A100_80G").to_dict()


def test_cli_resolve_unknown_exits_2() -> None:
    result = runner.invoke(app, ["accelerators", "resolve", "nvidia-tesla-h10"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "unknown accelerator 'nvidia-tesla-h10'" in result.stderr
    assert "'nvidia-tesla-h100'" in result.stderr


def test_cli_resolve_custom() -> None:
    result = runner.invoke(app, ["accelerators", "resolve", "nvidia-foo", "--custom", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["roles"] == ["custom device string"]
    assert doc["entry"]["is_custom"] is True
    assert doc["entry"]["v2_device"] == "nvidia-foo"
