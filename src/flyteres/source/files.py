"""Which files a command reads, and reading them safely: one discovery for `check`, `verify` and `migrate`.

Discovery (`discover`): a file named on the command line is taken as it is;
a directory is searched for `*.py` (or the `--include` patterns), leaving out

- hidden directories, `__pycache__`, `node_modules`, `build` and `dist`;
- virtual environments (any directory holding a `pyvenv.cfg`) and
  `site-packages`/`dist-packages` directories, wherever they are;
- whatever a `.gitignore` ignores: the `.gitignore` files inside the searched
  directory and those of the directories above it, up to the repository's
  root (the directory with `.git`), each read relative to its own directory,
  as git reads them (`pathspec`'s git-style matching);
- whatever an `--exclude` pattern matches (git-style, relative to the
  searched directory).

A directory named on the command line is searched even when it would be
left out inside another (`build`, a virtualenv, one a `.gitignore` above it
ignores). Anything that is not a regular file is skipped with the reason: a
FIFO or a device named `*.py` would block or never end. Reading
(`read_source`) opens without blocking and checks what it opened (a FIFO
swapped in after discovery is still never read), bounds the size
(`MAX_FILE_BYTES`), decodes with the encoding the file's coding cookie (or
BOM) names, and turns every failure into a reason; nothing raises. It can
also return the bytes read and their `Fingerprint` (size, mtime and SHA-256),
so a command that writes the file back can first check that nobody changed it
in the meantime.

`pathspec` is imported only when a `.gitignore` or a pattern needs it (the cli
and migrate extras install it; without it, that is a `MissingExtraError`).
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
import tokenize
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flyteres._extras import missing_extra

if TYPE_CHECKING:
    import pathspec

__all__ = [
    "MAX_FILE_BYTES",
    "SKIPPED_DIRECTORIES",
    "Discovery",
    "Fingerprint",
    "SourceFile",
    "discover",
    "read_source",
]

#: Directories never searched, besides hidden ones, virtualenvs and site-packages.
SKIPPED_DIRECTORIES = frozenset({"__pycache__", "node_modules", "build", "dist", "venv"})
_PACKAGE_DIRECTORIES = frozenset({"site-packages", "dist-packages"})
#: Files larger than this are not read (a generated module of this size declares no tasks worth checking).
MAX_FILE_BYTES = 8 * 1024 * 1024


@dataclass
class Discovery:
    """What `discover` found: the files in path order, the files it left out with the reason
    (`skipped`), and paths that do not exist (`missing`)."""

    files: list[Path] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    missing: list[Path] = field(default_factory=list)


def _spec(lines: Iterable[str]) -> pathspec.PathSpec[Any]:
    try:
        import pathspec  # noqa: PLC0415 - loaded only when there is something to match
    except ModuleNotFoundError as exc:
        raise missing_extra(exc, "matching .gitignore files and --exclude/--include patterns", "migrate") from None
    return pathspec.GitIgnoreSpec.from_lines(lines)


class _Ignores:
    """The `.gitignore` files that apply under one searched directory, and the user's patterns."""

    def __init__(self, root: Path, exclude: Sequence[str]) -> None:
        self.root = root
        self.exclude = _spec(exclude) if exclude else None
        # (directory, its .gitignore), outermost first; more are added while walking down.
        self.specs: list[tuple[Path, pathspec.PathSpec[Any]]] = []
        top = Path(os.path.abspath(root))
        chain = [top]
        for parent in top.parents:
            if (chain[-1] / ".git").exists():
                break
            chain.append(parent)
        else:
            chain = [top]  # not inside a repository: only the tree's own .gitignore files
        for directory in reversed(chain[1:]):
            self.add(directory, searched=top)

    def add(self, directory: Path, searched: Path | None = None) -> None:
        """Apply `directory`'s .gitignore. For one above the `searched` directory, the patterns
        that ignore that directory itself are left out: a directory named on the command line is
        searched as it is, like a file named there (and like `build` or a virtualenv)."""
        ignore = directory / ".gitignore"
        try:
            if not ignore.is_file():
                return
            lines = ignore.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return
        if searched is not None:
            itself = searched.relative_to(directory).as_posix() + "/"
            lines = [line for line in lines if not _spec([line]).match_file(itself)]
        self.specs.append((Path(os.path.abspath(directory)), _spec(lines)))

    def ignored(self, path: Path, *, is_dir: bool) -> bool:
        absolute = Path(os.path.abspath(path))
        for directory, spec in self.specs:
            try:
                relative = absolute.relative_to(directory).as_posix()
            except ValueError:
                continue
            if spec.match_file(relative + "/" if is_dir else relative):
                return True
        if self.exclude is not None:
            relative = os.path.relpath(path, self.root).replace(os.sep, "/")
            if self.exclude.match_file(relative + "/" if is_dir else relative):
                return True
        return False


def discover(
    paths: Iterable[str | Path],
    *,
    exclude: Sequence[str] = (),
    include: Sequence[str] = (),
    gitignore: bool = True,
) -> Discovery:
    """The files to read under `paths`, sorted, each once (see the module notes).

    `include` replaces the default `*.py` with git-style patterns a file must
    match; `exclude` adds patterns for files and directories to leave out.
    """
    out = Discovery()
    found: dict[str, Path] = {}
    wanted = _spec(include) if include else None
    for given in paths:
        path = Path(given)
        try:
            st = path.stat()
        except OSError:
            if path.is_symlink():
                out.skipped.append((path, "a symbolic link to nothing"))
            else:
                out.missing.append(path)
            continue
        if stat.S_ISDIR(st.st_mode):
            _walk(path, out, found, exclude, wanted, gitignore)
        elif not stat.S_ISREG(st.st_mode):
            out.skipped.append((path, "not a regular file"))
        elif exclude and _Ignores(path.parent, exclude).ignored(path, is_dir=False):
            continue
        else:
            found.setdefault(os.path.normpath(path), path)
    out.files = [found[k] for k in sorted(found)]
    once = {os.path.normpath(p): (p, reason) for p, reason in out.skipped}
    out.skipped = [once[k] for k in sorted(once)]
    return out


def _walk(  # noqa: PLR0917 - one private helper of discover
    root: Path,
    out: Discovery,
    found: dict[str, Path],
    exclude: Sequence[str],
    wanted: pathspec.PathSpec[Any] | None,
    gitignore: bool,
) -> None:
    ignores = _Ignores(root, exclude) if (gitignore or exclude) else None
    if ignores is not None and not gitignore:
        ignores.specs.clear()
    stack = [root]
    while stack:
        directory = stack.pop()
        if ignores is not None and gitignore:
            ignores.add(directory)
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            out.skipped.append((directory, f"cannot be listed: {exc.strerror or exc}"))
            continue
        if any(e.name == "pyvenv.cfg" for e in entries) and directory != root:
            continue  # a virtual environment
        subdirectories: list[Path] = []
        for entry in entries:
            path = Path(entry.path)
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                continue
            if is_dir:
                name = entry.name
                if name.startswith(".") or name in SKIPPED_DIRECTORIES or name in _PACKAGE_DIRECTORIES:
                    continue
                if ignores is not None and ignores.ignored(path, is_dir=True):
                    continue
                subdirectories.append(path)
                continue
            relative = os.path.relpath(path, root).replace(os.sep, "/")
            if wanted is not None:
                if not wanted.match_file(relative):
                    continue
            elif not entry.name.endswith(".py"):
                continue
            if ignores is not None and ignores.ignored(path, is_dir=False):
                continue
            try:
                st = entry.stat()  # follows a symbolic link to the file it names
            except OSError:
                out.skipped.append((path, "a symbolic link to nothing"))
                continue
            if not stat.S_ISREG(st.st_mode):
                out.skipped.append((path, "not a regular file"))
                continue
            found.setdefault(os.path.normpath(path), path)
        stack.extend(reversed(subdirectories))


@dataclass(frozen=True)
class Fingerprint:
    """What a file held when it was read: its size, modification time (ns) and the SHA-256 of its bytes."""

    size: int
    mtime_ns: int
    sha256: str

    @classmethod
    def of(cls, data: bytes, st: os.stat_result) -> Fingerprint:
        """The fingerprint of `data`, read from a file whose `fstat` was `st`."""
        return cls(st.st_size, st.st_mtime_ns, hashlib.sha256(data).hexdigest())


@dataclass(frozen=True)
class SourceFile:
    """A file's text, or why there is none: `skipped` (too large, not text, not a regular
    file: the run goes on) or `error` (it cannot be read: an input error).

    With `read_source(..., keep_bytes=True)`, `data` holds the bytes read and
    `fingerprint` what they were (also when they are not text).
    """

    path: Path
    text: str | None = None
    encoding: str = "utf-8"
    skipped: str | None = None
    error: str | None = None
    data: bytes | None = None
    fingerprint: Fingerprint | None = None


def _too_large(max_bytes: int, size: int | None = None) -> str:
    return f"larger than {max_bytes // (1024 * 1024)} MiB" + (f" ({size} bytes)" if size is not None else "")


def read_source(path: Path, *, max_bytes: int = MAX_FILE_BYTES, keep_bytes: bool = False) -> SourceFile:
    """Read one file without blocking on anything that is not a regular file; never raises.

    `keep_bytes` also returns the bytes read and their `Fingerprint`.
    """
    try:
        # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        return SourceFile(path, error=f"cannot be read: {exc.strerror or exc}")
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return SourceFile(path, skipped="not a regular file")
        if st.st_size > max_bytes:
            return SourceFile(path, skipped=_too_large(max_bytes, st.st_size))
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        return SourceFile(path, error=f"cannot be read: {exc.strerror or exc}")
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        return SourceFile(path, skipped=_too_large(max_bytes))  # it grew while being read
    kept = data if keep_bytes else None
    fingerprint = Fingerprint.of(data, st) if keep_bytes else None
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return SourceFile(path, data.decode(encoding), encoding, data=kept, fingerprint=fingerprint)
    except (SyntaxError, UnicodeDecodeError, LookupError) as exc:
        return SourceFile(path, skipped=f"not Python source text: {exc}", data=kept, fingerprint=fingerprint)
