"""What every apply phase may need besides its actions."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..clusterspec import Host


@dataclass(frozen=True)
class ApplyContext:
    """What every phase may need besides its actions: settings of the host and the run."""

    cluster: str
    host: Host
    how: str = "here"  # images: "here" (build on the host), "ship" or "build" (remote hosts)
    parallelism: int = 8
    stream_builds: bool = False
    logs_dir: Path = Path("logs")
    poll: float = 0.25
    state_dir: str = "/var/lib/clusterdeploy"  # on the Docker host (deploy/tunables.py)
    spans_hosts: bool = False  # a cluster over several hosts: the swarm phases run too
    containers_follow: bool = False  # the plan creates or starts containers on this host
