"""The cluster's block in a Docker host's /etc/hosts (`host_names`): marked lines that map each
container's hostname to its address, written and removed as a whole, never another line."""

from __future__ import annotations

from ..clusterspec import Spec


def hosts_markers(cluster: str) -> tuple[str, str]:
    """The lines around a cluster's block in /etc/hosts."""
    return (f"# BEGIN clusterdeploy cluster {cluster}", f"# END clusterdeploy cluster {cluster}")


def hosts_block(spec: Spec) -> str:
    """The cluster's /etc/hosts block: each container's address and hostname."""
    begin, end = hosts_markers(spec.name)
    return "\n".join([begin, *(f"{m.address} {m.hostname}" for m in spec.members), end]) + "\n"
