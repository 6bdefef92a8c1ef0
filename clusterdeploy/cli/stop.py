"""`clusterdeploy stop NODE... [--force]`: stop some nodes, leave the others alone."""

from __future__ import annotations

from typing import Any

from .nodeaction import add_command


def add(sub: Any) -> None:
    add_command(sub, "stop", "stop nodes (graceful, or --force to kill)",
                "Stop the nodes' containers, all at once: SIGTERM, then SIGKILL after each "
                "one's stop_grace_period (--force: SIGKILL at once). Other containers are not "
                "touched. Takes the cluster's lock. One line per node: how it ended.")
