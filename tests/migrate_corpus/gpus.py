"""Accelerators: docs/patterns.md P6, P14-P20."""

import flytekit.extras.accelerators as acc
from flytekit import Resources, task
from flytekit.extras import accelerators
from flytekit.extras.accelerators import A10G, A100, H100, L4, T4, V5E, V5P, GPUAccelerator


# P6: the GPU count only in limits, as flytekit's accelerator docs write it.
@task(limits=Resources(gpu="1"), accelerator=L4)
def embed(n: int) -> int:
    return n


# P14: a constant and a count.
@task(requests=Resources(gpu="1", mem="10Gi"), accelerator=T4)
def transcribe(n: int) -> int:
    return n


# P15: a MIG partition, and whole devices only.
@task(requests=Resources(gpu="1"), accelerator=A100.partition_3g_20gb)
def slice_job(n: int) -> int:
    return n


@task(requests=Resources(gpu="1"), accelerator=A100.unpartitioned)
def whole_gpu(n: int) -> int:
    return n


# P16: TPU slices, with four chips and with one.
@task(requests=Resources(gpu="4"), accelerator=V5E.slice_2x2)
def tpu_job(n: int) -> int:
    return n


@task(requests=Resources(gpu="1"), accelerator=V5P.slice_2x2x1)
def tpu_one(n: int) -> int:
    return n


# P17: any device string.
@task(limits=Resources(gpu="2"), accelerator=GPUAccelerator("nvidia-rtx-a6000"))
def custom_dev(n: int) -> int:
    return n


# P18: an accelerator without a count (a no-op on the v1 backend).
@task(requests=Resources(cpu="1", mem="5Gi"), accelerator=T4)
def preprocess(n: int) -> int:
    return n


# P19: gpu "0" next to an accelerator (a sidecar owns the GPU).
@task(accelerator=A10G, requests=Resources(gpu="0"))
def ask(n: int) -> int:
    return n


# P20: the other import forms.
@task(requests=Resources(gpu="2"), accelerator=accelerators.A100)
def bare_a100(n: int) -> int:
    return n


@task(requests=Resources(gpu="1"), accelerator=acc.A100.partition_1g_5gb)
def mig_small(n: int) -> int:
    return n


# A device label flyte would re-spell (nvidia-h100 vs nvidia-tesla-h100).
@task(requests=Resources(gpu="8"), accelerator=H100)
def big(n: int) -> int:
    return n


# Counts without an accelerator, zero and in both requests and limits.
@task(requests=Resources(cpu="1", gpu="0"))
def no_gpu(n: int) -> int:
    return n


@task(requests=Resources(cpu="4", mem="16Gi", gpu="1"), limits=Resources(gpu="1"))
def finetune(n: int) -> int:
    return n
