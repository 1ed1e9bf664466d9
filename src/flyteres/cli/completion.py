"""`flyteres completion bash|zsh|fish`: print the shell's completion script (like ``buf completion``).

The script calls ``flyteres`` back with ``_FLYTERES_COMPLETE`` set, which
click answers before any command runs; click's completion classes load only
here and in that call.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer


class Shell(str, Enum):
    """The shells click writes completion scripts for."""

    BASH = "bash"
    ZSH = "zsh"
    FISH = "fish"


def completion(
    ctx: typer.Context,
    shell: Annotated[Shell, typer.Argument(help="The shell to write the script for.", show_default=False)],
) -> None:
    """Print the completion script for a shell.

    bash: `flyteres completion bash > ~/.local/share/bash-completion/completions/flyteres`;
    zsh: `flyteres completion zsh > "${fpath[1]}/_flyteres"`;
    fish: `flyteres completion fish > ~/.config/fish/completions/flyteres.fish`.
    """
    from typer._completion_classes import completion_init  # noqa: PLC0415 - only this command needs it

    try:  # a Typer that carries its own copy of click registers its script classes there
        from typer._click import shell_completion  # noqa: PLC0415
    except ImportError:  # pragma: no cover - a Typer that runs on click itself
        from click import shell_completion  # type: ignore[no-redef]  # noqa: PLC0415 - the same module, from click

    # Typer's own script classes: they call back with the instruction order Typer's main answers.
    completion_init()
    root = ctx.find_root()
    cls = shell_completion.get_completion_class(shell.value)
    if cls is None:  # click knows all three; kept for a click without one of them
        typer.echo(f"error: no completion for {shell.value}", err=True)
        raise typer.Exit(2)
    script = cls(root.command, {}, "flyteres", "_FLYTERES_COMPLETE").source()
    typer.echo(script)
