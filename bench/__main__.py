"""``python -m bench``: see :mod:`bench.cli`."""

import sys

from bench.cli import main

raise SystemExit(main(sys.argv[1:]))
