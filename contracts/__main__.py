"""``python -m seedream_contracts [options]`` or ``python -m seedream_contracts diff OLD NEW``."""

from __future__ import annotations

import sys

from seedream_contracts.cli import main

sys.exit(main())
