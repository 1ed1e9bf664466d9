"""A module-level flytekit `ImageSpec(...)` as a Flyte 2 `flyte.Image`, where the mapping is exact.

Read from both SDKs' sources (flytekit's `ImageSpec` dataclass; flyte's
`Image.from_debian_base`, `with_apt_packages`, `with_pip_packages`,
`with_env_vars`). Each SDK builds its own SDK into the image, and each tags
the image with a hash of its own spec, so the tag necessarily changes; what is
carried exactly is what the user declared:

- `registry=R`, `name=N` (flytekit's default name is "flytekit"): the same
  repository, `from_debian_base(registry=R, name=N)`;
- `python_version="3.X"`: `python_version=(3, X)` (both default to the
  running interpreter's);
- `platform` (flytekit's default "linux/amd64"; Flyte 2's default builds
  several): written out, `platform=("linux/amd64",)`;
- `apt_packages=[...]`, `packages=[...]`, `env={...}`: `.with_apt_packages(...)`,
  `.with_pip_packages(...)`, `.with_env_vars({...})`.

Everything else blocks with its reason: no `registry=` (flytekit names the
image without one; Flyte 2 pushes to the configured registry), a
`base_image`, requirements files, conda, CUDA, pip indexes, commands, copies,
a builder; packages of flytekit itself or of its plugins (`flytekitplugins-*`:
Flyte 2 has its own plugins or none, a choice for a person); values that are not
literals (registry and name may be any expression, kept as written, since the
statement stays where it is).
"""

from __future__ import annotations

import ast
from collections.abc import Callable

from flyteres.source.values import literal

__all__ = ["IMAGE_SPEC", "image_source", "render_image"]

#: flytekit's ImageSpec, by the qualified names it is imported under.
IMAGE_SPEC = frozenset(
    {"flytekit.ImageSpec", "flytekit.image_spec.ImageSpec", "flytekit.image_spec.image_spec.ImageSpec"}
)
_KEPT = ("name", "registry", "python_version", "platform", "apt_packages", "packages", "env")


def _strings(node: ast.expr, what: str) -> list[str]:
    value = literal(node)
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"ImageSpec({what}=...) is not a literal list of strings")
    return list(value)


def image_source(
    call: ast.Call, *, flyte: str, quote: str, code: Callable[[ast.expr], str]
) -> tuple[str, list[str], list[str]]:
    """The `flyte.Image` for an `ImageSpec(...)` call as (the constructor, its arguments, the
    `.with_*(...)` calls after it), or raise `ValueError` with why there is no exact one (see
    the module docstring)."""
    if call.args or any(kw.arg is None for kw in call.keywords):
        raise ValueError("ImageSpec(...) with positional or ** arguments cannot be read here")
    given = {kw.arg: kw.value for kw in call.keywords if kw.arg is not None}
    other = [k for k in given if k not in _KEPT]
    if other:
        raise ValueError(f"ImageSpec({', '.join(f'{k}=' for k in other)}...) has no exact flyte.Image form here")
    if "registry" not in given:
        raise ValueError(
            "an ImageSpec without registry= is named without a registry by flytekit; Flyte 2 pushes to the "
            "configured registry"
        )

    def q(text: str) -> str:
        return f"{quote}{text}{quote}"

    base = [f"registry={code(given['registry'])}", f"name={code(given['name']) if 'name' in given else q('flytekit')}"]
    if "python_version" in given:
        version = literal(given["python_version"])
        parts = version.split(".") if isinstance(version, str) else []
        if len(parts) != 2 or not all(p.isdigit() for p in parts):
            raise ValueError("ImageSpec(python_version=...) is not a literal 'X.Y'")
        base.insert(0, f"python_version=({int(parts[0])}, {int(parts[1])})")
    platform = literal(given["platform"]) if "platform" in given else "linux/amd64"
    if not isinstance(platform, str):
        raise ValueError("ImageSpec(platform=...) is not a literal string")
    platforms = [p.strip() for p in platform.split(",") if p.strip()]
    base.append(f"platform=({', '.join(q(p) for p in platforms)},)")
    head, out = f"{flyte}.Image.from_debian_base", []
    if "apt_packages" in given:
        apt = _strings(given["apt_packages"], "apt_packages")
        if apt:
            out.append(f"with_apt_packages({', '.join(q(p) for p in apt)})")
    if "packages" in given:
        packages = _strings(given["packages"], "packages")
        sdk = [p for p in packages if p.lower().replace("_", "-").startswith("flytekit")]
        if sdk:
            raise ValueError(
                f"ImageSpec(packages=[{', '.join(sdk)}]) installs flytekit or a flytekit plugin: Flyte 2 has its "
                "own plugins (flyteplugins-*) or none; choose by hand"
            )
        if packages:
            out.append(f"with_pip_packages({', '.join(q(p) for p in packages)})")
    if "env" in given:
        env = literal(given["env"])
        if not isinstance(env, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in env.items()):
            raise ValueError("ImageSpec(env=...) is not a literal dict of strings")
        if env:
            out.append(f"with_env_vars({code(given['env'])})")
    return head, base, out


def render_image(target: str, image: tuple[str, list[str], list[str]], *, unit: str, width: int | None) -> str:
    """`target = <image>` on one line when it fits in `width` (or no width is given), else as
    ruff's formatter writes a call chain: in parentheses, one call per line, the constructor's
    arguments one per line when they do not fit either."""
    head, args, chain = image
    call = f"{head}({', '.join(args)})"
    line = f"{target} = {call}{''.join(f'.{c}' for c in chain)}"
    if width is None or len(line) <= width:
        return line + "\n"
    if len(unit) + len(call) > width:
        call = f"{head}(\n" + "".join(f"{unit * 2}{a},\n" for a in args) + f"{unit})"
    lines = [f"{target} = (", f"{unit}{call}", *(f"{unit}.{c}" for c in chain), ")"]
    if not chain:
        lines = [f"{target} = {call.replace(chr(10) + unit, chr(10))}"]
    return "\n".join(lines) + "\n"
