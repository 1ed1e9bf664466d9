"""Writing a migrated file back: only what the diff showed, only if nobody changed it, never half.

`encode_exactly` turns the new text into the bytes to write, or refuses:
the file's declared encoding must give back exactly the bytes that were read
(so every line the migration left alone stays byte for byte what it was) and
must encode the new text so that it decodes to the same text with the same
line breaks. `# -*- coding: unicode_escape -*-`, for one, writes a line break
as the two characters `\\n`: the file would become one physical line, not what
`--diff` showed, so such a file is refused with that reason.

`replace_file` writes those bytes:

- first it checks that the file still holds what was read (size, mtime and
  SHA-256, `flyteres.source.files.Fingerprint`): a file edited during the run
  is skipped, never overwritten with a rewrite of its old text;
- a read-only file (no write permission bit, or not writable by this user) is
  skipped: `os.replace` would succeed anyway, since only the directory's
  permission counts for it;
- a file with one link is replaced in one step: the bytes go to a temporary
  file in the same directory (a short name of its own, `.flyteres-XXXXXXXX.tmp`,
  so a file name of any allowed length works), which gets the file's mode (and
  owner, when this process may set it) and then replaces the file with
  `os.replace`. A reader sees the old file or the new one, never a mix;
- a file with several hard links is written in place, through the same inode:
  replacing it would give this name a new file and leave the other names with
  the old text (the hard link would be split). The new bytes are written over
  the old ones and the file is then cut to their length; if writing fails,
  the old bytes are put back.

Both ways run with SIGINT and SIGTERM held back (`deferred_signals`): an
interrupt that arrives mid-write takes effect right after it, so a run that is
stopped never leaves a half-written file or a stray temporary file.
"""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Literal

from flyteres.source.files import Fingerprint, read_source

__all__ = ["WriteResult", "check_file", "deferred_signals", "encode_exactly", "replace_file"]

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def encode_exactly(original: bytes, text: str, new: str, encoding: str) -> bytes | str:
    """The bytes of `new` in `encoding`, or why they would not be what a diff of `text` -> `new` shows.

    `original` is what was read and `text` its decoding.

    >>> encode_exactly(b"x = 1\\r\\n", "x = 1\\r\\n", "x = 2\\r\\n", "utf-8")
    b'x = 2\\r\\n'
    >>> encode_exactly(b"x = 1\\n", "x = 1\\n", "x = 2\\n", "unicode_escape")  # doctest: +ELLIPSIS
    'the declared encoding unicode_escape does not give back the bytes that were read ...'
    """
    try:
        if text.encode(encoding) != original:
            return (
                f"the declared encoding {encoding} does not give back the bytes that were read "
                "(rewriting would change lines the migration leaves alone); not rewritten"
            )
        data = new.encode(encoding)
    except (UnicodeError, LookupError) as exc:
        return f"the new text cannot be written in the declared encoding {encoding}: {exc}; not rewritten"
    try:
        same = data.decode(encoding) == new
    except (UnicodeError, LookupError):
        same = False
    if not same or data.count(b"\n") != new.count("\n") or data.count(b"\r") != new.count("\r"):
        return f"the declared encoding {encoding} would not write the new text as the diff shows it; not rewritten"
    return data


@dataclass(frozen=True)
class WriteResult:
    """What `replace_file` did: `written`, or `skipped`/`failed` with the reason."""

    status: Literal["written", "skipped", "failed"]
    reason: str | None = None
    in_place: bool = False


@contextlib.contextmanager
def deferred_signals() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back for the block, then deliver what arrived.

    Only the main thread can set signal handlers; elsewhere the block runs as is.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []

    def hold(signum: int, frame: FrameType | None) -> None:
        received.append(signum)

    previous = {s: signal.signal(s, hold) for s in _SIGNALS}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, signal.SIG_DFL if handler is None else handler)
        for signum in dict.fromkeys(received):
            signal.raise_signal(signum)  # the handler in force again decides (KeyboardInterrupt, exit)


def replace_file(path: Path, data: bytes, expected: Fingerprint) -> WriteResult:
    """Write `data` to `path` if it still holds what `expected` describes (see the module notes)."""
    refused, old, st = _examine(path, expected)
    if refused is not None or st is None:
        return refused or WriteResult("failed", "cannot write: the file cannot be examined")
    if st.st_nlink > 1:
        return _in_place(path, data, old)
    return _replace(path, data, st)


def check_file(path: Path, expected: Fingerprint) -> WriteResult | None:
    """Why `replace_file` would not write `path` now (changed since it was read, read-only), or None.

    The runner asks this of every file of a group of modules before writing any of them,
    so a group is written whole or not at all (`replace_file` checks again as it writes).
    """
    refused, _, _ = _examine(path, expected)
    return refused


def _examine(path: Path, expected: Fingerprint) -> tuple[WriteResult | None, bytes, os.stat_result | None]:
    """Whether `path` may be written: the refusal, or None with its bytes and status."""
    # Reading at most the size it had: a file that grew is a changed file, however large.
    now = read_source(path, max_bytes=max(expected.size, 1), keep_bytes=True)
    if now.error is not None or now.fingerprint is None:
        reason = now.error or ("it grew" if (now.skipped or "").startswith("larger than") else now.skipped)
        return WriteResult("skipped", f"changed since it was read ({reason}); not written"), b"", None
    if now.fingerprint != expected:
        return (
            WriteResult("skipped", "changed since it was read (someone edited it during the run); not written"),
            b"",
            None,
        )
    try:
        st = os.stat(path)
    except OSError as exc:
        return WriteResult("failed", f"cannot write: {exc.strerror or exc}"), b"", None
    mode = stat.S_IMODE(st.st_mode)
    if not mode & 0o222 or not os.access(path, os.W_OK):
        return WriteResult("skipped", f"read-only (mode {mode:04o}); not rewritten"), b"", None
    return None, now.data or b"", st


def _replace(path: Path, data: bytes, st: os.stat_result) -> WriteResult:
    """A new file beside the old one, with its mode and owner, moved over it in one step."""
    with deferred_signals():
        try:
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".flyteres-", suffix=".tmp")
        except OSError as exc:
            return WriteResult("failed", f"cannot write: {exc.strerror or exc}")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                if hasattr(os, "fchmod"):  # POSIX; elsewhere os.chmod below
                    os.fchmod(fh.fileno(), stat.S_IMODE(st.st_mode))
                if hasattr(os, "fchown") and (st.st_uid, st.st_gid) != (os.getuid(), os.getgid()):
                    with contextlib.suppress(OSError):  # only the owner's group, or root, may; else keep ours
                        os.fchown(fh.fileno(), st.st_uid, st.st_gid)
            if not hasattr(os, "fchmod"):
                os.chmod(tmp, stat.S_IMODE(st.st_mode))
            os.replace(tmp, path)
        except BaseException as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            if isinstance(exc, OSError):
                return WriteResult("failed", f"cannot write: {exc.strerror or exc}")
            raise
    return WriteResult("written")


def _in_place(path: Path, data: bytes, old: bytes) -> WriteResult:
    """Overwrite the file's own bytes (it has other hard links), putting the old ones back on failure."""
    with deferred_signals():
        try:
            fd = os.open(path, os.O_WRONLY)
        except OSError as exc:
            return WriteResult("failed", f"cannot write: {exc.strerror or exc}")
        try:
            try:
                _write_all(fd, data)
                os.ftruncate(fd, len(data))
            except OSError as exc:
                with contextlib.suppress(OSError):
                    _write_all(fd, old)
                    os.ftruncate(fd, len(old))
                return WriteResult("failed", f"cannot write: {exc.strerror or exc}")
        finally:
            os.close(fd)
    return WriteResult("written", in_place=True)


def _write_all(fd: int, data: bytes) -> None:
    os.lseek(fd, 0, os.SEEK_SET)
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
