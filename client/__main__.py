"""``python -m seedream_client`` is the ``seedream`` command."""

from __future__ import annotations

from seedream_client.cli import main

raise SystemExit(main())
