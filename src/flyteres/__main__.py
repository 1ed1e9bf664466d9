"""`python -m flyteres`: the same command line as `flyteres`."""

from __future__ import annotations

from flyteres.cli.app import main

if __name__ == "__main__":
    main()
