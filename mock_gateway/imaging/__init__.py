"""Image work of the mock: rendering results, validating inputs, bundled samples, a cache.

- ``render(RenderRequest) -> bytes``: a deterministic PNG or JPEG result image showing a
  generated background (or the edited inputs) with the prompt, model, seed and size on it.
- ``probe_image(bytes) -> ImageInfo``: validate an input image against the upstream limits;
  raises ``InvalidImage`` (a ValueError whose message suits a 400 answer) and nothing else.
- ``SampleImages``: the documentation's sample input URLs mapped to bundled files.
- ``ImageCache``: byte-bounded LRU of rendered images; renders off the event loop, once per key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mock_gateway.imaging.cache import ImageCache
from mock_gateway.imaging.probe import (
    ACCEPTED,
    BYTEPLUS_ACCEPTED,
    ImageInfo,
    InvalidImage,
    probe_image,
)
from mock_gateway.imaging.samples import SampleImages

if TYPE_CHECKING:
    from mock_gateway.imaging.render import RenderRequest, render


def __getattr__(name: str) -> Any:
    # The renderer (and Pillow with it) loads with the first image, not at start-up.
    if name in ("RenderRequest", "render"):
        import mock_gateway.imaging.render as module

        # importing the submodule bound the package's ``render`` to it: bind the function
        globals().update(RenderRequest=module.RenderRequest, render=module.render)
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
