"""Shared test settings."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest
from hypothesis import settings

# Property tests assert behaviour, not speed: a loaded CI machine must not turn
# a slow example into a failure. Speed is measured in benchmarks/ instead.
settings.register_profile("flyteres", deadline=None, print_blob=True)
settings.load_profile("flyteres")


def _flytekit_entities() -> list[object] | None:
    """flytekit's process-wide list of every task, workflow and launch plan ever declared, if flytekit is loaded."""
    module = sys.modules.get("flytekit.core.context_manager")
    return None if module is None else module.FlyteEntities.entities


@pytest.fixture(autouse=True)
def _flytekit_entities_stay_in_their_test() -> Iterator[None]:
    """Forget the flytekit entities a test declared once it ends.

    flytekit appends every task it constructs to `FlyteEntities.entities` and never removes one.
    Serializing a `@dynamic` walks that whole list and builds (first asking the Docker daemon
    whether it exists) the ImageSpec of every task in it, so a test that imports a module with
    `container_image=ImageSpec(...)` would make every later test that serializes a `@dynamic`
    contact Docker: without a daemon, docker-py leaves the socket it failed to connect open, and
    the ResourceWarning surfaces, as an unraisable exception, in whichever test the garbage
    collector happens to run in; with a daemon, flytekit would try to build that image.
    Entities declared before the test (at collection, or by wider-scoped fixtures) are kept.
    """
    before = _flytekit_entities()
    kept = [] if before is None else list(before)
    yield
    after = _flytekit_entities()
    if after is not None:
        after[:] = kept
