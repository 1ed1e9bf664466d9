"""The package version, in a module that imports nothing.

The façade re-exports it as `flyteres.__version__`; `flyteres --version` reads
it from here, so printing the version loads no other part of the library.
"""

from __future__ import annotations

__version__ = "0.1.0"
