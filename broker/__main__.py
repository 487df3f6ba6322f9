"""``python -m broker`` is the ``shoal`` command."""

from broker.cli import main

raise SystemExit(main())
