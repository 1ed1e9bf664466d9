"""The exception hierarchy: one base class, each error also a matching builtin."""

from __future__ import annotations


class FlyteresError(Exception):
    """Base class of every error flyteres raises on purpose."""
