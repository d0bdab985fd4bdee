"""A refused request: the status and the gateway's ``{"error", "message"}`` body."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Rejection:
    status: int
    error: str
    message: str

    def body(self) -> dict[str, str]:
        return {"error": self.error, "message": self.message}


def bad_request(message: str) -> Rejection:
    return Rejection(400, "Bad Request", message)
