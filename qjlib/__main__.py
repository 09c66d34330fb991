"""``python -m qjlib``: the ``qj`` command."""

from qjlib.cli import main

raise SystemExit(main())
