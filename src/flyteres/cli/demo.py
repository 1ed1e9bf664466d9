"""`flyteres demo`: flyteres on a few typical task resource declarations.

Part one converts real flytekit declarations to Flyte 2 (and back), showing
the findings each conversion reports. Part two shows what the IDL carries:
wire bytes (hex), protobuf text format and proto3 JSON, parsed back by Flyte's
own flyteidl2 messages when installed to show the bytes mean the same there.

protobuf and the converters load when the demo runs, not when the CLI
registers the command.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from google.protobuf.message import Message

    from flyteres._pb import ExtendedResourcesPb, ResourceEntryPb, ResourcesPb


def demo() -> None:
    """Convert typical flytekit declarations to Flyte 2 and show what the IDL carries."""
    for line in render():
        typer.echo(line)


@dataclass(frozen=True)
class Example:
    title: str
    resources: ResourcesPb
    extended: ExtendedResourcesPb | None


def _entries(**values: str) -> list[ResourceEntryPb]:
    from flyteres._pb import ResourceEntryPb  # noqa: PLC0415 - protobuf loads when the demo runs

    return [ResourceEntryPb(name=k.upper(), value=v) for k, v in values.items()]


def examples() -> list[Example]:
    """The IDL examples of part two, as Flyte's own messages."""
    from flyteres._pb import (  # noqa: PLC0415 - protobuf loads when the demo runs
        DeviceClassPb,
        ExtendedResourcesPb,
        GPUAcceleratorPb,
        ResourcesPb,
        SharedMemoryPb,
    )

    return [
        Example(
            "burstable CPU and memory: requests=Resources(cpu='1', mem='2Gi'), limits=Resources(cpu='2', mem='4Gi')",
            ResourcesPb(requests=_entries(cpu="1", memory="2Gi"), limits=_entries(cpu="2", memory="4Gi")),
            None,
        ),
        Example(
            "one A100 MIG slice with shared memory: gpu=flyte.GPU('A100', 1, '1g.5gb'), shm='auto'",
            ResourcesPb(requests=_entries(gpu="1")),
            ExtendedResourcesPb(
                gpu_accelerator=GPUAcceleratorPb(device="nvidia-tesla-a100", partition_size="1g.5gb"),
                shared_memory=SharedMemoryPb(mount_path="/dev/shm", mount_name="flyte-shm"),
            ),
        ),
        Example(
            "whole A100s only: limits=Resources(gpu='2'), accelerator=A100.unpartitioned",
            ResourcesPb(limits=_entries(gpu="2")),
            ExtendedResourcesPb(gpu_accelerator=GPUAcceleratorPb(device="nvidia-tesla-a100", unpartitioned=True)),
        ),
        Example(
            "a TPU v5e slice: gpu=flyte.TPU('V5E', '2x4')",
            ResourcesPb(requests=_entries(gpu="1")),
            ExtendedResourcesPb(
                gpu_accelerator=GPUAcceleratorPb(
                    device="tpu-v5-lite-podslice", partition_size="2x4", device_class=DeviceClassPb.GOOGLE_TPU
                )
            ),
        ),
    ]


def _flyteidl2_parser() -> Callable[[str, bytes], Message] | None:
    try:
        from flyteidl2.core import tasks_pb2  # noqa: PLC0415 - optional extra
    except ImportError:
        return None

    def parse(kind: str, data: bytes) -> Message:
        msg: Message = getattr(tasks_pb2, kind)()
        msg.ParseFromString(data)
        return msg

    return parse


# flytekit declarations as written in real code (see docs/patterns.md), in the
# dict form `from_flytekit` reads without importing flytekit.
DECLARATIONS: list[tuple[str, dict[str, object]]] = [
    ("@task(limits=Resources(mem='600Mi'))", {"limits": {"mem": "600Mi"}}),
    (
        "@task(requests=Resources(cpu='1', mem='256Mi'), limits=Resources(cpu='2', mem='512Mi'))",
        {"requests": {"cpu": "1", "mem": "256Mi"}, "limits": {"cpu": "2", "mem": "512Mi"}},
    ),
    ("@task(limits=Resources(gpu='1'), accelerator=T4)", {"limits": {"gpu": "1"}, "accelerator": "T4"}),
    (
        "@task(requests=Resources(gpu='8'), accelerator=H100, shared_memory=True)",
        {"requests": {"gpu": "8"}, "accelerator": "H100", "shared_memory": True},
    ),
    (
        "@task(requests=Resources(gpu='4'), accelerator=V5E.slice_2x4)",
        {"requests": {"gpu": "4"}, "accelerator": "V5E.slice_2x4"},
    ),
    (
        "@task(requests=Resources(gpu='1', mem=2048), accelerator=A100.unpartitioned)",
        {"requests": {"gpu": "1", "mem": 2048}, "accelerator": "A100.unpartitioned"},
    ),
]


def render_conversions() -> Iterator[str]:
    """flytekit → Flyte 2 for each declaration, under both policies."""
    from flyteres.convert.flyte import flyte_arguments  # noqa: PLC0415
    from flyteres.convert.flytekit import from_flytekit  # noqa: PLC0415
    from flyteres.core.options import Policy  # noqa: PLC0415

    yield "Part 1: flytekit declarations converted to Flyte 2 (findings below each; LOSSY blocks the policy)."
    for source, kwargs in DECLARATIONS:
        spec = from_flytekit(**kwargs)
        yield ""
        yield f"  {source}"
        yield f"    spec:       {spec!r}"
        for policy in Policy:
            conversion = flyte_arguments(spec, policy=policy)
            result = "not converted" if conversion.lossy else conversion.value.source()
            yield f"    {policy + ':':11} {result}"
        for finding in flyte_arguments(spec, policy="kubernetes").findings:
            mark = "LOSSY" if finding.lossy else "note"
            yield f"      {mark} [{finding.rule.value}] {finding.field} = {finding.value}: {finding.reason}"


def render() -> Iterator[str]:
    """Yield the demo's lines."""
    yield from render_conversions()
    yield ""
    yield from render_idl()


def render_idl() -> Iterator[str]:
    """The IDL examples in three forms each."""
    from google.protobuf import json_format, text_format  # noqa: PLC0415 - protobuf loads when the demo runs

    parse_flyteidl2 = _flyteidl2_parser()
    yield "Part 2: flyteres.v1 carries Flyte's task resource messages; each example in three forms."
    for number, example in enumerate(examples(), 1):
        yield ""
        yield f"[{number}] {example.title}"
        messages: list[tuple[str, Message]] = [("Resources", example.resources)]
        if example.extended is not None:
            messages.append(("ExtendedResources", example.extended))
        for kind, msg in messages:
            data = msg.SerializeToString(deterministic=True)
            ours = json_format.MessageToJson(msg, indent=None)
            yield f"  {kind}"
            yield f"    bytes ({len(data)}): {data.hex(' ')}"
            text = text_format.MessageToString(msg, as_one_line=True)
            yield f"    text: {text}"
            yield f"    json: {ours}"
            if parse_flyteidl2 is not None:
                theirs = json_format.MessageToJson(parse_flyteidl2(kind, data), indent=None)
                verdict = "same JSON" if theirs == ours else f"DIFFERENT JSON {theirs}"
                yield f"    flyteidl2.core.{kind} parses these bytes: {verdict}"
