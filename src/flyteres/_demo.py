"""`flyteres demo`: what the IDL carries for a few typical task resource specs.

Each example is shown as wire bytes (hex), protobuf text format and proto3
JSON, and, when flyteidl2 is installed, parsed back by Flyte's own messages to
show the bytes mean the same thing there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from google.protobuf import json_format, text_format
from google.protobuf.message import Message

from flyteres._idl import (
    DeviceClassPb,
    ExtendedResourcesPb,
    GPUAcceleratorPb,
    ResourceEntryPb,
    ResourcesPb,
    SharedMemoryPb,
)


@dataclass(frozen=True)
class Example:
    title: str
    resources: ResourcesPb
    extended: ExtendedResourcesPb | None


def _entries(**values: str) -> list[ResourceEntryPb]:
    return [ResourceEntryPb(name=k.upper(), value=v) for k, v in values.items()]


def examples() -> list[Example]:
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


def render() -> Iterator[str]:
    """Yield the demo's lines."""
    parse_flyteidl2 = _flyteidl2_parser()
    yield "flyteres.v1 carries Flyte's task resource messages; each example in three forms."
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
