"""from_idl over mutated golden vectors: a spec or a documented error, nothing else (issue 13).

The golden vectors in tests/vectors/ are real Resources and ExtendedResources
messages. Flipping, inserting and deleting bytes, splicing vectors together
and appending stray fields gives inputs of every wire type in every field
position, groups and over-long varints included. `from_idl` must read each
one into a ResourceSpec or refuse it with a ResourceSpecError or
QuantityError (ValueErrors naming the field); a TypeError or OverflowError,
which the service would answer as INTERNAL, is a bug.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from google.protobuf.message import DecodeError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import flyteres
from flyteres import QuantityError, ResourceSpecError
from flyteres_pb.v1 import resources_pb2 as ours

VECTORS = Path(__file__).parent / "vectors"
RESOURCES = sorted(p.read_bytes() for p in VECTORS.glob("*.resources.bin"))
EXTENDED = sorted(p.read_bytes() for p in VECTORS.glob("*.extended_resources.bin"))
DOCUMENTED = (ResourceSpecError, QuantityError)


@st.composite
def mutated(draw: st.DrawFn, seeds: list[bytes]) -> bytes:
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["flip", "insert", "delete", "splice", "append-field"]))
        at = draw(st.integers(0, len(data)))
        if kind == "flip" and data:
            at = min(at, len(data) - 1)
            data[at] = draw(st.integers(0, 255))
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=4))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 4))]
        elif kind == "splice":
            other = draw(st.sampled_from(RESOURCES + EXTENDED))
            data[at:at] = other[: draw(st.integers(0, len(other)))]
        else:
            # A field of any number and wire type: varint, fixed64, length-delimited, group start/end, fixed32.
            number, wire = draw(st.integers(1, 6)), draw(st.sampled_from([0, 1, 2, 3, 4, 5]))
            body = {
                0: draw(st.sampled_from([b"\x05", b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", b"\x80\x01"])),
                1: b"\x01" * 8,
                2: bytes([len(chunk := draw(st.binary(max_size=20)))]) + chunk,
                3: b"",
                4: b"",
                5: b"\x01" * 4,
            }[wire]
            data += bytes([(number << 3) | wire]) + body
    return bytes(data)


def read(resources: object, extended: object, source: str) -> object:
    """The spec, or the documented error (any other exception fails the test)."""
    try:
        return flyteres.from_idl(resources, extended, source=source)  # type: ignore[arg-type]
    except DOCUMENTED as exc:
        return exc


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.none() | mutated(RESOURCES),
    st.none() | mutated(EXTENDED),
    st.sampled_from(["auto", "flyteidl"]),
)
def test_mutated_vectors_read_or_refuse_with_a_field_error(
    resources: bytes | None, extended: bytes | None, source: str
) -> None:
    result = read(resources, extended, source)
    assert isinstance(result, (flyteres.ResourceSpec, ValueError))
    if isinstance(result, flyteres.ResourceSpec):
        # Whatever is read writes back and reads again as the same spec.
        res, ext = flyteres.to_idl(result)
        assert flyteres.from_idl(res, ext) == result


@settings(max_examples=500, deadline=None)
@given(mutated(RESOURCES + EXTENDED))
def test_messages_of_either_kind_read_or_refuse(data: bytes) -> None:
    # The same bytes given as parsed messages (when protobuf parses them) rather than as bytes.
    for kind, position in ((ours.Resources, 0), (ours.ExtendedResources, 1)):
        try:
            message = kind.FromString(data)
        except DecodeError:
            continue
        args: list[object] = [None, None]
        args[position] = message
        read(args[0], args[1], "auto")


# The inputs the issue names, and others of the same classes found while fuzzing.
KNOWN = {
    # gpu_accelerator (field 1) first as a varint, then as the message: v1's unknown-field probe
    # used to assume field 1 is always length-delimited (TypeError: expected bytes, int found).
    "field 1 as a varint, then the accelerator": (None, b"\x08\x05\x0a\x13\x0a\x11nvidia-tesla-a100", "flyteidl"),
    "field 1 as a group": (None, b"\x0b\x0c\x0a\x13\x0a\x11nvidia-tesla-a100", "flyteidl"),
    "field 1 as fixed32": (None, b"\x0d\x01\x01\x01\x01\x0a\x13\x0a\x11nvidia-tesla-a100", "flyteidl"),
    "a GPU count too large for Kubernetes": (
        ours.Resources(
            requests=[ours.Resources.ResourceEntry(name=ours.Resources.GPU, value="1e999")]
        ).SerializeToString(),
        None,
        "auto",
    ),
}


@pytest.mark.parametrize(("resources", "extended", "source"), KNOWN.values(), ids=KNOWN.keys())
def test_known_inputs(resources: bytes | None, extended: bytes | None, source: str) -> None:
    result = read(resources, extended, source)
    if isinstance(result, flyteres.ResourceSpec) and extended is not None:
        # protobuf keeps a field of the wrong wire type as unknown: the accelerator is still read.
        assert result.accelerator is not None
        assert result.accelerator.device == "nvidia-tesla-a100"
