"""The pyinfra facts that read a Docker host in one command each: the cluster's state, and
its swarm membership."""

from __future__ import annotations

from pyinfra.api import FactBase

from ..core.observed import ObservedState
from ..docker.imagereads import listing_script, parse_listing
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
                faults_dir: str = "", image_refs: tuple[str, ...] | None = None) -> str:
        self._cluster, self._host_name, self._image_refs = cluster, host_name, image_refs
        return observe_script(cluster, network, files_root, faults_dir, image_refs)

    def process(self, output: list[str]) -> ObservedState:
        return parse_observation("\n".join(output), self._cluster, self._host_name,
                                 self._image_refs)


class ImageListing(FactBase[tuple[dict[str, str], frozenset[str]]]):
    """Every tagged image of a host with its ID, and the IDs of those clusterdeploy built:
    read when the observation's named references cannot settle a plan (deploy/reading.py).
    """

    def command(self, host_name: str) -> str:
        self._host_name = host_name
        return listing_script()

    def process(self, output: list[str]) -> tuple[dict[str, str], frozenset[str]]:
        return parse_listing("\n".join(output), self._host_name)


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
