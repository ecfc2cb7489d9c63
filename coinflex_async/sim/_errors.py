"""The simulator's own error type: one exchange error code, message and HTTP status."""

from __future__ import annotations

__all__ = ["SimError"]


class SimError(Exception):
    """A request the simulated exchange refuses, answered as
    ``{"success": false, "code": "<code>", "message": "<message>"}`` with ``status``."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
