"""The `flyteres` command line: thin layers over the library, one module per command.

`flyteres.cli.app:main` is the console script; each command module keeps its
heavy imports inside the command, so `flyteres --version` stays fast.
"""
