"""`clusterdeploy start NODE...`: start stopped nodes."""

from __future__ import annotations

from typing import Any

from .nodeaction import add_command


def add(sub: Any) -> None:
    add_command(sub, "start", "start stopped nodes",
                "Start the nodes' existing containers (a deploy creates missing ones). Does not "
                "wait for health. Takes the cluster's lock. One line per node.")
