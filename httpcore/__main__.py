"""`python -m httpcore URL`: the command-line tool."""

import sys

from ._cli import main

sys.exit(main())
