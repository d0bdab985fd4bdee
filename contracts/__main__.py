"""``python -m contracts [run options]`` or ``python -m contracts diff OLD NEW``."""

from __future__ import annotations

import sys

from .cli import main

sys.exit(main())
