"""The pyinfra fact that reads a cluster's state on a Docker host in one command."""

from __future__ import annotations

from pyinfra.api import FactBase

from ..core.observed import ObservedState
from ..docker.observe import observe_script, parse_observation


class ClusterState(FactBase[ObservedState]):
    """Everything planning needs from one host: containers, networks, images, rendered files,
    the fault journal.

    Raises DeployError naming the host when Docker does not answer (never a partial state).

    Example:
        observed = host.get_fact(ClusterState, cluster="ci", network="netDB",
                                 files_root="/var/lib/clusterdeploy/ci", host_name="local")
    """

    def command(self, cluster: str, network: str, files_root: str, host_name: str,
                faults_dir: str = "") -> str:
        self._cluster, self._host_name = cluster, host_name
        return observe_script(cluster, network, files_root, faults_dir)

    def process(self, output: list[str]) -> ObservedState:
        return parse_observation("\n".join(output), self._cluster, self._host_name)
