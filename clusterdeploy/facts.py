"""The pyinfra fact that reads a cluster's state on a Docker host in one command."""

from __future__ import annotations

from pyinfra.api import FactBase

from .observe import ObservedState, observe_script, parse_observation


class ClusterState(FactBase):
    """Everything planning needs from one host: containers, networks, images, rendered files.

    Example:
        observed = host.get_fact(ClusterState, cluster="ci", network="netDB",
                                 files_root="/var/lib/clusterdeploy/ci")
    """

    default = ObservedState

    def command(self, cluster: str, network: str, files_root: str) -> str:  # type: ignore[override]
        return observe_script(cluster, network, files_root)

    def process(self, output: list[str]) -> ObservedState:  # type: ignore[override]
        return parse_observation("\n".join(output))
