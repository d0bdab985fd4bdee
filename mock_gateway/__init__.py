"""A faithful offline mock of Pixazo's Seedream image-generation gateway."""

from __future__ import annotations

__version__ = "0.1.0"
