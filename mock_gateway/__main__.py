"""``python -m mock_gateway`` is ``mock-gateway``."""

from __future__ import annotations

import sys

from mock_gateway.cli import main

sys.exit(main())
