"""`clusterdeploy restart NODE... [--force]`: stop and start some nodes."""

from __future__ import annotations

from typing import Any

from .nodeaction import add_command


def add(sub: Any) -> None:
    add_command(sub, "restart", "restart nodes (graceful stop, or --force to kill, then start)",
                "Stop the nodes' containers as `stop` does, then start them again; other "
                "containers are not touched. Takes the cluster's lock. One line per node: how "
                "it stopped.")
