"""Image work of the mock: rendering results, validating inputs, bundled samples, a cache.

- ``render(RenderRequest) -> bytes``: a deterministic PNG or JPEG result image showing a
  generated background (or the edited inputs) with the prompt, model, seed and size on it.
- ``probe_image(bytes) -> ImageInfo``: validate an input image against the upstream limits;
  raises ``InvalidImage`` (a ValueError whose message suits a 400 answer) and nothing else.
- ``SampleImages``: the documentation's sample input URLs mapped to bundled files.
- ``ImageCache``: byte-bounded LRU of rendered images; renders off the event loop, once per key.
"""

from __future__ import annotations

from mock_gateway.imaging.cache import ImageCache
from mock_gateway.imaging.probe import (
    ACCEPTED,
    BYTEPLUS_ACCEPTED,
    ImageInfo,
    InvalidImage,
    probe_image,
)
from mock_gateway.imaging.render import RenderRequest, render
from mock_gateway.imaging.samples import SampleImages

__all__ = [
    "ACCEPTED",
    "BYTEPLUS_ACCEPTED",
    "ImageCache",
    "ImageInfo",
    "InvalidImage",
    "RenderRequest",
    "SampleImages",
    "probe_image",
    "render",
]
