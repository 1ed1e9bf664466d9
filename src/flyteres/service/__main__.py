"""`python -m flyteres.service [--address HOST:PORT]`: the `flyteres serve` command."""

from __future__ import annotations

from flyteres.cli.serve import main

if __name__ == "__main__":
    main()
