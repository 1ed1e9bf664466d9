"""Task-level declarations: docs/patterns.md P1-P5, P7, P8, P11, P12."""

from flytekit import Resources, task


# P1: requests only.
@task(requests=Resources(cpu="2", mem="4Gi"))
def featurize(n: int) -> int:
    return n


# P2: a memory cap and nothing else (the most common flytesnacks shape).
@task(limits=Resources(mem="600Mi"))
def fit(n: int) -> int:
    return n


# P2 next to caching, which has no Flyte 2 equivalent this codemod knows.
@task(cache=True, cache_version="1", limits=Resources(mem="600Mi"))
def cached_fit(n: int) -> int:
    return n


# P3: burstable, with an ephemeral-storage limit above its request.
@task(
    requests=Resources(cpu="1", mem="256Mi", ephemeral_storage="1Gi"),
    limits=Resources(cpu="2", mem="512Mi", ephemeral_storage="2Gi"),
)
def crunch(n: int) -> int:
    return n


# P3 without storage, next to an argument Flyte 2 also has.
@task(requests=Resources(cpu="1", mem="256Mi"), limits=Resources(cpu="2", mem="512Mi"), retries=2)
def burst(n: int) -> int:
    return n


# P4: guaranteed QoS through one shared object...
BOX = Resources(cpu="4", mem="12Gi", ephemeral_storage="2Gi")


@task(requests=BOX, limits=BOX)
def train(n: int) -> int:
    return n


@task(requests=BOX, limits=BOX)
def evaluate(n: int) -> int:
    return n


# ... or through the same literal twice.
@task(requests=Resources(cpu="1", mem="1Gi"), limits=Resources(cpu="1", mem="1Gi"))
def guaranteed(n: int) -> int:
    return n


# P5: disjoint keys (memory is requested but not limited, cpu is limited).
@task(requests=Resources(cpu="1", mem="1000Mi"), limits=Resources(cpu="2"))
def mpi_step(n: int) -> int:
    return n


# P7: the unified form, pairs as a tuple and as a list.
@task(resources=Resources(cpu=("500m", "2"), mem=["1Gi", "4Gi"]))
def score(n: int) -> int:
    return n


# P8: an ephemeral-storage request.
@task(requests=Resources(mem="8Gi", ephemeral_storage="50Gi"))
def unpack(n: int) -> int:
    return n


# P11: positional fields (cpu, mem).
@task(limits=Resources("2", "3Gi"))
def positional(n: int) -> int:
    return n


# A limit-only cpu.
@task(limits=Resources(cpu="2"))
def capped(n: int) -> int:
    return n


# P12: an empty placeholder is not a declaration.
def make_resources(req: Resources = Resources()) -> Resources:  # noqa: B008 - the pattern under test
    return req
