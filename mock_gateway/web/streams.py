"""Reading a stream of bytes without letting its sender decide how much memory we use."""

from __future__ import annotations

from collections.abc import AsyncIterator


async def read_limited(chunks: AsyncIterator[bytes], limit: int) -> bytes | None:
    """All of ``chunks`` joined, or None as soon as they add up to more than ``limit``
    (the rest is never read, so an endless or huge stream costs at most ``limit`` bytes)."""
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            return None
        parts.append(chunk)
    return b"".join(parts)
