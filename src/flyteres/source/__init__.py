"""Reading task resource declarations out of Python source, without importing it.

Used by `flyteres check` and `flyteres migrate` alike.
"""

from __future__ import annotations

from flyteres._extras import missing_extra

# Every module of this package reads source with libcst, which only the
# migrate (and cli) extras install: say so once, here, rather than in each.
try:
    import libcst  # noqa: F401 - imported for the check only
except ModuleNotFoundError as exc:
    raise missing_extra(exc, "reading Python source (flyteres.check, flyteres.migrate)", "migrate") from None
