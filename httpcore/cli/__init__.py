"""The ``httpcore`` command-line tool (also ``python -m httpcore``)."""

from .main import main

__all__ = ["main"]
