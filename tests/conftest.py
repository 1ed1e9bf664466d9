"""Shared test settings."""

from __future__ import annotations

from hypothesis import settings

# Property tests assert behaviour, not speed: a loaded CI machine must not turn
# a slow example into a failure. Speed is measured in benchmarks/ instead.
settings.register_profile("flyteres", deadline=None, print_blob=True)
settings.load_profile("flyteres")
