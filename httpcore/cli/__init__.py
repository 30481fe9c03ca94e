"""The ``httpcore`` command-line tool (also ``python -m httpcore``).

Modules, one job each: `args` (the command line), `build` (checking it and
building the request), `main` (running the exchange), `output` (heads, the
verbose trace, bodies on stdout), `download` (files and the progress bar),
`errors` (exit statuses and one-line messages).
"""

from .main import main

__all__ = ["main"]
