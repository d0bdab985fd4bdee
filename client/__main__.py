"""``python -m client`` is the ``seedream`` command."""

from __future__ import annotations

from .cli import main

raise SystemExit(main())
