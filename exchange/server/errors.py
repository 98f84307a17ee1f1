"""The one failure a command reports without a traceback (``exchange.server.cli.main`` prints it)."""

from __future__ import annotations


class CommandError(Exception):
    """A command cannot go on for a reason the user can fix: ``main`` prints ``error: <message>``
    as one line on stderr and exits with ``status``."""

    def __init__(self, message: str, status: int = 2) -> None:
        super().__init__(message)
        self.status = status
