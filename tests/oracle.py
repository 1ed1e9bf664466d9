"""Serialize resources with the SDKs' own serializers, for oracle tests.

`flytekit_wire` builds a real `@task` and runs it through flytekit's
`get_serializable` and `to_flyte_idl`; `flyte_wire` builds a real task in a
`flyte.TaskEnvironment` and runs flyte's `get_proto_task`. Both return our
IDL's messages (re-read from the SDK's bytes), so results compare directly.
"""

from __future__ import annotations

import itertools
import pathlib
from collections import OrderedDict
from typing import Any

import flyte
from flyte._internal.runtime import task_serde
from flyte.models import SerializationContext
from flytekit import task
from flytekit.configuration import Image, ImageConfig, SerializationSettings
from flytekit.tools.translator import get_serializable

from flyteres_pb.v1 import resources_pb2 as ours

_counter = itertools.count()


def oracle_task() -> None:
    """The body of every task the oracles serialize (flytekit wants it at module level)."""


def flytekit_wire(**task_kwargs: Any) -> tuple[ours.Resources, ours.ExtendedResources | None]:

    settings = SerializationSettings(image_config=ImageConfig(default_image=Image(name="d", fqn="img", tag="t")))
    entity = get_serializable(OrderedDict(), settings, task(**task_kwargs)(oracle_task))
    template = entity.template.to_flyte_idl()
    ext = None
    if template.HasField("extended_resources"):
        ext = ours.ExtendedResources.FromString(template.extended_resources.SerializeToString())
    return ours.Resources.FromString(template.container.resources.SerializeToString()), ext


def flyte_wire(resources: Any) -> tuple[ours.Resources, ours.ExtendedResources | None]:

    env = flyte.TaskEnvironment(name=f"oracle-v2-{next(_counter)}", resources=resources)

    task = env.task(oracle_task)
    ctx = SerializationContext(version="v1", project="p", domain="d", root_dir=pathlib.Path(__file__).parent)
    template = task_serde.get_proto_task(task, ctx)
    ext = None
    if template.HasField("extended_resources"):
        ext = ours.ExtendedResources.FromString(template.extended_resources.SerializeToString())
    return ours.Resources.FromString(template.container.resources.SerializeToString()), ext


def normalized(
    resources: ours.Resources,
    ext: ours.ExtendedResources | None,
    *,
    kubernetes_defaults: bool = False,
) -> dict[str, Any]:
    """A comparable form, up to the documented equivalences.

    - entry order is ignored;
    - a GPU count counts once, wherever it sits (devices have request == limit);
    - the shared-memory volume name is each SDK's own;
    - the device class is compared only when the source can carry it (the
      caller passes implied classes for flytekit through `expected_class`).
    With kubernetes_defaults, a missing request or limit is filled from the
    other side, as Kubernetes and the Flyte backend do at run time.
    """
    requests = {ours.Resources.ResourceName.Name(e.name): e.value for e in resources.requests}
    limits = {ours.Resources.ResourceName.Name(e.name): e.value for e in resources.limits}
    gpu = requests.pop("GPU", None) or limits.pop("GPU", None)
    limits.pop("GPU", None)
    if kubernetes_defaults:
        for name in set(requests) | set(limits):
            requests.setdefault(name, limits.get(name, ""))
            limits.setdefault(name, requests[name])
    out: dict[str, Any] = {"requests": requests, "limits": limits, "gpu": gpu}
    if ext is not None and ext.HasField("gpu_accelerator"):
        acc = ext.gpu_accelerator
        out["accelerator"] = {
            "device": acc.device,
            "partition": acc.WhichOneof("partition_size_value")
            and getattr(acc, acc.WhichOneof("partition_size_value")),
        }
    if ext is not None and ext.HasField("shared_memory"):
        out["shm"] = {"path": ext.shared_memory.mount_path, "size": ext.shared_memory.size_limit}
    return out


def device_class(ext: ours.ExtendedResources | None) -> str | None:
    if ext is None or not ext.HasField("gpu_accelerator"):
        return None
    return ours.GPUAccelerator.DeviceClass.Name(ext.gpu_accelerator.device_class)
