"""How the pyinfra layer reports: a failure is logged line by line, in red, and fails its
command; every line names the host as the spec does."""

from __future__ import annotations

from typing import Any

from pyinfra import logger


def fail(host: Any, message: str) -> bool:
    """Log a failure (one line per line of `message`) and fail the command."""
    for line in message.splitlines():
        host.log_styled(line, fg="red", log_func=logger.error)
    return False


def info(host: Any, message: str) -> None:
    host.log_styled(message, log_func=logger.info)
