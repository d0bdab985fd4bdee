"""The safety checker: a configurable blocklist standing in for the model's content filter."""

from __future__ import annotations

import re

# What each model family reports. BytePlus names its moderation failures with codes such as
# ``InputTextSensitiveContentDetected`` (docs/gateway-facts.md#b12); 5.0 Lite reports a plain
# sentence.
LITE_BLOCKED = "Content blocked by the safety checker: the prompt was flagged as inappropriate."
BYTEPLUS_BLOCKED = (
    "InputTextSensitiveContentDetected: The request failed because the input text may contain "
    "sensitive information."
)


class SafetyChecker:
    def __init__(self, blocklist: tuple[str, ...]) -> None:
        words = [re.escape(word.strip().lower()) for word in blocklist if word.strip()]
        self._pattern = re.compile(r"\b(" + "|".join(words) + r")\b") if words else None

    def flags(self, prompt: str) -> bool:
        return bool(self._pattern and self._pattern.search(prompt.lower()))

    @staticmethod
    def error_text(slug: str) -> str:
        return BYTEPLUS_BLOCKED if slug == "byteplus" else LITE_BLOCKED
