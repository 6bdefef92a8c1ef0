"""The cluster network's part of a plan: create it, recreate it when its settings changed
(which recreates every container), remove networks the spec no longer names; on a host that
does not manage the cluster's overlay, only the host's own leftovers."""

from __future__ import annotations

from ..errors import DeployError, on_host
from .actions import CreateNetwork, RemoveNetwork
from .desired import DesiredState
from .observed import ObservedContainer, ObservedState


def plan_network(desired: DesiredState, observed: ObservedState,
                 owned: dict[str, ObservedContainer], removed: set[str], host: str,
                 ) -> tuple[list[CreateNetwork | RemoveNetwork], bool]:
    """The network's actions, and whether it is recreated (which recreates every container).

    A network is removed after the remove phase: the cluster's containers still on it then
    (those that are recreated) are detached first."""
    actions: list[CreateNetwork | RemoveNetwork] = []
    target = desired.network
    current = observed.network(target.name)

    def attached(network_containers: dict[str, str]) -> tuple[str, ...]:
        return tuple(sorted(name for cid, name in network_containers.items()
                            if name in owned and owned[name].id == cid and name not in removed))

    recreated = False
    if current is None:
        actions.append(CreateNetwork(cause=f"missing (subnet {target.subnet})", network=target))
    elif current.config_hash != target.config_hash:
        foreign = sorted(name for cid, name in current.containers.items()
                         if name not in owned or owned[name].id != cid)
        if foreign:
            message = (f"network {target.name} must be recreated (subnet "
                       f"{', '.join(current.subnets) or 'none'} -> {target.subnet}) but "
                       f"containers outside the cluster use it: {', '.join(foreign)} "
                       f"(disconnect them first)")
            raise DeployError(on_host(host, message) if host else message)
        actions.append(RemoveNetwork(cause="its settings changed", network=current,
                                     detach=attached(current.containers)))
        actions.append(CreateNetwork(cause=f"subnet {target.subnet}", network=target))
        recreated = True
    for other in observed.networks:
        if other.cluster == desired.cluster and other.name != target.name:
            actions.append(RemoveNetwork(cause="no longer in the spec", network=other,
                                         detach=attached(other.containers)))
    return actions, recreated


def plan_local_networks(desired: DesiredState, observed: ObservedState,
                        owned: dict[str, ObservedContainer], removed: set[str],
                        ) -> tuple[list[CreateNetwork | RemoveNetwork], bool]:
    """On a host that does not manage the cluster's (overlay) network: the cluster's networks
    of this host alone (a bridge from when the cluster lived here) go, and the containers on
    one named like the overlay are recreated onto the overlay."""
    actions: list[CreateNetwork | RemoveNetwork] = []
    recreated = False
    for network in observed.networks:
        if network.cluster != desired.cluster or network.scope != "local":
            continue
        same_name = network.name == desired.network.name
        recreated = recreated or same_name
        actions.append(RemoveNetwork(
            cause="the cluster's network is an overlay over several hosts now" if same_name
            else "no longer in the spec", network=network,
            detach=tuple(sorted(name for cid, name in network.containers.items()
                                if name in owned and owned[name].id == cid
                                and name not in removed))))
    return actions, recreated
