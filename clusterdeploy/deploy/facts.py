"""The pyinfra facts that read a Docker host in one command each: the cluster's state, and
its swarm membership."""

from __future__ import annotations

from pyinfra.api import FactBase

from ..core.observed import ObservedState
from ..docker.observe import observe_script, parse_observation
from ..docker.swarm import SwarmObservation, parse_swarm_observation, swarm_script


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


class SwarmState(FactBase[SwarmObservation]):
    """A host's swarm membership (and, on a manager, the swarm's nodes and overlays); only
    read for a cluster over several hosts.

    Example:
        swarm = host.get_fact(SwarmState, state_dir="/var/lib/clusterdeploy", host_name="lab1")
    """

    def command(self, state_dir: str, host_name: str) -> str:
        self._host_name = host_name
        return swarm_script(state_dir)

    def process(self, output: list[str]) -> SwarmObservation:
        return parse_swarm_observation("\n".join(output), self._host_name)
