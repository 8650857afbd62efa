"""``python -m posbridge``: the same as the ``posbridge`` command."""

from .cli import main

raise SystemExit(main())
