"""Image work of the mock: rendering results, validating inputs, bundled samples, a cache.

``render`` draws a result image, ``probe_image`` checks an input image, ``SampleImages``
answers the documentation's sample URLs offline, ``ImageCache`` keeps rendered images.
The same names are re-exported by ``mock_gateway.images``.
"""

from __future__ import annotations

from .cache import ImageCache
from .probe import ImageInfo, InvalidImage, probe_image
from .render import RenderRequest, render
from .samples import SampleImages

__all__ = [
    "ImageCache",
    "ImageInfo",
    "InvalidImage",
    "RenderRequest",
    "SampleImages",
    "probe_image",
    "render",
]
