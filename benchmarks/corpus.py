"""Read a real project with `flyteres check`: nothing crashes, and every declaration is found or explained.

    .venv/bin/python benchmarks/corpus.py PATH [--platform FILE]

PATH is a source tree, or a git directory (a bare repository or a `.git`),
whose newest commit's `*.py` files are copied out first (blobs the
repository lacks are counted, not fatal). The report:

- files read, and those skipped or refused with the reason;
- declarations by SDK and kind, how many have a spec, and the reasons of
  those that cannot be evaluated statically (grouped; every declaration has
  one or the other);
- tasks and workflows found by SDK, set beside a plain text count of
  decorators, `TaskEnvironment(`, `.with_overrides(` and `.override(` in the
  same files: a file where the two disagree is listed;
- what check reports, and the time, beside `ast.parse` alone.

Used by `make bench CORPUS=PATH` and by tests/test_corpus.py (slow; it runs
when FLYTERES_CORPUS names such a path). Nothing of the corpus is kept.
"""

from __future__ import annotations

import argparse
import ast
import io
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tokenize
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from flyteres.check import CheckReport, check_paths
from flyteres.platform import parse_platform
from flyteres.source.analysis import SourceModule
from flyteres.source.project import Project, read_project

DEFAULT_PLATFORM = "task_resources: {defaults: {cpu: 500m, memory: 1Gi}, limits: {cpu: '8', memory: 32Gi, gpu: '4'}}"

# What a reader sees in the code (comments and strings left out): decorators that name a task or
# a workflow, environments and their clones, overrides.
_TEXT = {
    "tasks and workflows": re.compile(r"^[ \t]*@[\w.]*\b(?:task|dynamic|eager|workflow)\b", re.MULTILINE),
    "environments": re.compile(r"\bTaskEnvironment\(|\.clone_with\("),
    "with_overrides": re.compile(r"\.with_overrides\("),
    "overrides": re.compile(r"\.override\("),
}


def code_only(text: str) -> str:
    """The text with comments and string literals blanked (docstrings show usage examples)."""
    lines = text.splitlines(keepends=True)
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return text
    for tok in reversed(tokens):
        if tok.type in (tokenize.COMMENT, tokenize.STRING):
            (r1, c1), (r2, c2) = tok.start, tok.end
            for r in range(r1, r2 + 1):
                line = lines[r - 1]
                start = c1 if r == r1 else 0
                end = c2 if r == r2 else len(line.rstrip("\r\n"))
                lines[r - 1] = line[:start] + " " * (end - start) + line[end:]
    return "".join(lines)


def is_git_dir(path: Path) -> bool:
    return (path / "HEAD").is_file() and (path / "objects").is_dir()


def extract(git_dir: Path, into: Path) -> tuple[int, int]:
    """Copy the newest commit's *.py files out of a git directory: (copied, missing blobs)."""
    names = subprocess.run(
        ["git", f"--git-dir={git_dir}", "ls-tree", "-r", "--name-only", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    copied = missing = 0
    for name in (n for n in names if n.endswith(".py")):
        blob = subprocess.run(
            ["git", f"--git-dir={git_dir}", "show", f"HEAD:{name}"], capture_output=True, check=False
        )  # fmt: skip
        if blob.returncode != 0:
            missing += 1
            continue
        target = into / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(blob.stdout)
        copied += 1
    return copied, missing


@dataclass
class CorpusReport:
    """What reading a corpus found."""

    files: int = 0
    seconds: float = 0.0
    parse_seconds: float = 0.0
    declarations: Counter[str] = field(default_factory=Counter)
    evaluated: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    unexplained: list[str] = field(default_factory=list)
    tasks: Counter[str] = field(default_factory=Counter)
    text_counts: Counter[str] = field(default_factory=Counter)
    model_counts: Counter[str] = field(default_factory=Counter)
    disagreements: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    check: CheckReport | None = None


def _reason_group(reason: str) -> str:
    """A reason without what varies from file to file (names, values), to count alike ones together."""
    reason = re.sub(r"'[^']*'", "'…'", reason)
    reason = re.sub(r"\([^()]*\)", "(…)", reason)
    return reason[:100]


def survey(root: Path, platform_text: str = DEFAULT_PLATFORM) -> CorpusReport:
    """Read the tree at `root` and check it (raises only on a bug: that is what a crash is)."""
    out = CorpusReport()
    start = time.perf_counter()
    project: Project = read_project([root])
    out.check = check_paths([root], parse_platform(platform_text))
    out.seconds = time.perf_counter() - start
    out.skipped, out.errors = project.skipped, project.errors
    out.files = len(project.modules) + len(project.skipped) + len(project.errors)
    for m in project.modules:
        for d in m.declarations:
            out.declarations[f"{d.sdk} {d.kind.value}"] += 1
            if d.spec is not None:
                out.evaluated += 1
            elif d.reason:
                out.reasons[_reason_group(d.reason)] += 1
            else:
                out.unexplained.append(f"{d.path}:{d.line}")
        for t in m.tasks:
            out.tasks[f"{t.sdk} {t.kind}"] += 1
        text = Path(m.path).read_text(encoding="utf-8", errors="replace")
        model = SourceModule(text, m.path)
        found = {
            "tasks and workflows": len(model.tasks),
            "environments": len(model.environments),
            "with_overrides": sum(1 for o in m.overrides if o.sdk == "flytekit"),
            "overrides": len(model.overrides),
        }
        code = code_only(text)
        for what, pattern in _TEXT.items():
            seen = len(pattern.findall(code))
            out.text_counts[what] += seen
            out.model_counts[what] += found[what]
            if seen != found[what]:
                out.disagreements.append(f"{m.path}: {what}: {seen} in the code, {found[what]} read")
    start = time.perf_counter()
    for m in project.modules:
        ast.parse(Path(m.path).read_text(encoding="utf-8", errors="replace"))
    out.parse_seconds = time.perf_counter() - start
    return out


def show(report: CorpusReport) -> list[str]:
    lines = [f"files:        {report.files} ({len(report.skipped)} not read, {len(report.errors)} errors)"]
    lines += [f"  not read:   {path}: {reason}" for path, reason in report.skipped[:10]]
    lines += [f"  error:      {e}" for e in report.errors[:10]]
    total = sum(report.declarations.values())
    lines.append(f"declarations: {total}, {report.evaluated} with a spec, {total - report.evaluated} with a reason")
    lines += [f"  {kind:28} {n}" for kind, n in sorted(report.declarations.items())]
    if report.reasons:
        lines.append("reasons (grouped):")
        lines += [f"  {n:4}  {reason}" for reason, n in report.reasons.most_common(12)]
    lines.append(f"unexplained:  {len(report.unexplained)} (a declaration with neither a spec nor a reason)")
    lines.append("tasks:        " + ", ".join(f"{k} {n}" for k, n in sorted(report.tasks.items())))
    for what in _TEXT:
        lines.append(f"  {what:20} in the code {report.text_counts[what]:5}, read {report.model_counts[what]:5}")
    lines += [f"  differs:    {d}" for d in report.disagreements[:15]]
    if report.check is not None:
        lines.append(f"check:        {next(reversed(list(report.check.lines())))}")
    rate = report.files / report.seconds if report.seconds else 0.0
    parse = report.files / report.parse_seconds if report.parse_seconds else 0.0
    lines.append(f"time:         {report.seconds:.2f}s to read and check ({rate:.0f} files/s; ast.parse: {parse:.0f})")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", type=Path, help="a source tree, or a git directory")
    parser.add_argument("--platform", type=Path, help="a platform file (default: a small built-in one)")
    args = parser.parse_args()
    platform_text = args.platform.read_text() if args.platform else DEFAULT_PLATFORM
    path: Path = args.path
    if not path.exists():
        print(f"{path}: no such file or directory")
        return 2
    with tempfile.TemporaryDirectory(prefix="flyteres-corpus-") as tmp:
        root = path
        if is_git_dir(path):
            copied, missing = extract(path, Path(tmp))
            print(f"corpus:       {path} (HEAD: {copied} *.py files copied out, {missing} blobs missing)")
            root = Path(tmp)
        else:
            print(f"corpus:       {path}")
        for line in show(survey(root, platform_text)):
            print(line)
    return 0


if __name__ == "__main__":
    shutil.which("git")  # the git-directory form needs git on PATH
    sys.exit(main())
