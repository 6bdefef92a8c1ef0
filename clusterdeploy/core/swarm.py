"""The swarm under a cluster that spans hosts: read each host's membership, plan the least
change that puts every host into one swarm, and never touch a swarm clusterdeploy did not make.

Pure. A host in no swarm joins (the first host initialises one when none of them is in one);
hosts already in the same swarm are left alone; a host in another swarm, or in one whose
manager is not among the spec's hosts, is an error naming it: leaving or resetting a swarm
can break someone else's services, so that is the user's call, never ours.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..clusterspec import Host
from ..errors import DeployError
from .actions import Action, Kind

SWARM_PORTS = "2377/tcp, 7946/tcp+udp and 4789/udp"
DOCKER_DEFAULT_POOL = ipaddress.IPv4Network("10.0.0.0/8")


@dataclass(frozen=True)
class SwarmMember:
    """One host's swarm membership, as `docker info --format '{{json .Swarm}}'` reports it."""

    state: str  # inactive | pending | active | error | locked
    node_id: str = ""
    node_addr: str = ""
    manager: bool = False  # ControlAvailable
    cluster_id: str = ""  # the swarm's ID (managers only)
    managers: tuple[tuple[str, str], ...] = ()  # (node ID, address:port) of its managers
    error: str = ""
    recorded: str = ""  # the node ID clusterdeploy recorded when it put this host in a swarm

    @property
    def active(self) -> bool:
        return self.state == "active"

    def manager_address(self) -> str:
        """Where workers join this manager: its own entry among the managers."""
        return next((addr for node, addr in self.managers if node == self.node_id),
                    f"{self.node_addr}:2377")

    def in_swarm_of(self, manager: SwarmMember) -> bool:
        if self.manager:
            return bool(self.cluster_id) and self.cluster_id == manager.cluster_id
        return manager.node_id in {node for node, _ in self.managers}


def parse_swarm(text: str, recorded: str = "") -> SwarmMember:
    data = json.loads(text or "{}") or {}
    return SwarmMember(
        state=data.get("LocalNodeState") or "inactive",
        node_id=data.get("NodeID") or "",
        node_addr=data.get("NodeAddr") or "",
        manager=bool(data.get("ControlAvailable")),
        cluster_id=((data.get("Cluster") or {}).get("ID")) or "",
        managers=tuple((m.get("NodeID", ""), m.get("Addr", ""))
                       for m in data.get("RemoteManagers") or ()),
        error=data.get("Error") or "",
        recorded=recorded.strip(),
    )


@dataclass(frozen=True)
class InitSwarm(Action):
    """`docker swarm init` on the first host: none of the hosts was in a swarm."""

    kind = Kind.INIT_SWARM
    host: str
    advertise: str | None  # None: Docker chooses (the local engine without swarm_address)
    address_pool: str | None = None  # --default-addr-pool, when Docker's own would clash

    @property
    def target(self) -> str:
        return self.host


@dataclass(frozen=True)
class JoinSwarm(Action):
    """`docker swarm join` as a worker of `manager`'s swarm (token read at apply time)."""

    kind = Kind.JOIN_SWARM
    host: str
    manager: str
    advertise: str | None

    @property
    def target(self) -> str:
        return self.host


@dataclass(frozen=True)
class LeaveSwarm(Action):
    """`docker swarm leave` of a host clusterdeploy put into the swarm (teardown, asked)."""

    kind = Kind.LEAVE_SWARM
    host: str

    @property
    def target(self) -> str:
        return self.host


@dataclass(frozen=True)
class LeaveSwarmManager(LeaveSwarm):
    """The manager leaves last (`--force`): the swarm ends with it."""

    kind = Kind.LEAVE_SWARM_MANAGER


@dataclass(frozen=True)
class SwarmPlan:
    manager: str  # the host that creates and removes the overlay network
    actions: tuple[InitSwarm | JoinSwarm, ...] = ()


def advertise_address(host: Host) -> str | None:
    return host.swarm_address or (host.ssh.address if host.ssh else None)


def plan_swarm(hosts: Sequence[Host], members: Mapping[str, SwarmMember],
               subnet: str) -> SwarmPlan:
    """The joins (and the init) that put every host into one swarm; DeployError naming each
    host that cannot be put there without leaving another swarm."""
    _check_states(hosts, members)
    managers = [h for h in hosts if members[h.name].active and members[h.name].manager]
    if not managers:
        active = [h for h in hosts if members[h.name].active]
        if active:
            raise DeployError("\n".join(
                f"{h.name}: is a worker of a swarm whose managers ({_addresses(members[h.name])}) "
                f"are not among the spec's hosts; clusterdeploy needs a manager to create the "
                f"cluster network (add a manager of that swarm to hosts, or make {h.name} leave "
                f"it: docker swarm leave)" for h in active))
        first = hosts[0]
        return SwarmPlan(first.name, (
            InitSwarm(cause="none of the hosts is in a swarm", host=first.name,
                      advertise=advertise_address(first),
                      address_pool=address_pool(hosts, subnet)),
            *(JoinSwarm(cause=f"join the swarm of {first.name}", host=h.name,
                        manager=first.name, advertise=advertise_address(h)) for h in hosts[1:])))
    manager = managers[0]
    chief = members[manager.name]
    foreign = [h for h in hosts
               if members[h.name].active and not members[h.name].in_swarm_of(chief)]
    if foreign:
        raise DeployError("\n".join(
            f"{h.name}: is in another swarm than {manager.name} (clusterdeploy never leaves or "
            f"resets a swarm: run `docker swarm leave` on {h.name} yourself, or list hosts of one "
            f"swarm)" for h in foreign))
    return SwarmPlan(manager.name, tuple(
        JoinSwarm(cause=f"not in the swarm of {manager.name}", host=h.name,
                  manager=manager.name, advertise=advertise_address(h))
        for h in hosts if not members[h.name].active))


def _check_states(hosts: Sequence[Host], members: Mapping[str, SwarmMember]) -> None:
    stuck = [(h.name, members[h.name]) for h in hosts
             if members[h.name].state not in ("inactive", "active")]
    if stuck:
        raise DeployError("\n".join(
            f"{name}: its swarm membership is {m.state}{f' ({m.error})' if m.error else ''} "
            f"(wait until it is active, or fix it on {name}: docker swarm leave, or unlock it)"
            for name, m in stuck))


def _addresses(member: SwarmMember) -> str:
    return ", ".join(addr for _, addr in member.managers) or "unknown"


def address_pool(hosts: Sequence[Host], subnet: str) -> str | None:
    """Docker's default pool for swarm-scoped networks (10.0.0.0/8, handed out in /24s, the
    first to the ingress network) when it holds none of the hosts' addresses and not the
    cluster's subnet; else a /16 of it that holds none of them."""
    taken = [ipaddress.IPv4Network(subnet)]
    for host in hosts:
        address = advertise_address(host)
        try:
            taken.append(ipaddress.IPv4Network(address or ""))
        except ValueError:
            continue  # a host name or an interface: nothing to avoid that we can know
    if not any(DOCKER_DEFAULT_POOL.overlaps(t) for t in taken):
        return None
    for pool in DOCKER_DEFAULT_POOL.subnets(new_prefix=16):
        if not any(pool.overlaps(t) for t in taken):
            return str(pool)
    return None


def plan_leave(hosts: Sequence[Host], members: Mapping[str, SwarmMember],
               other_networks: Sequence[str], swarm_nodes: Sequence[str],
               ) -> tuple[list[LeaveSwarm], list[str]]:
    """Teardown with leave_swarm: the hosts clusterdeploy put into a swarm (the node ID it
    recorded is still theirs) leave it, workers first, and the manager last, only when nothing
    else uses the swarm: no other cluster's network (`other_networks`) and no node of it
    (`swarm_nodes`, the manager's list) that stays. Hosts that were in a swarm before stay.
    Returns the actions and, for a manager that stays, why."""
    def ours(host: Host) -> bool:
        member = members[host.name]
        return member.active and bool(member.recorded) and member.recorded == member.node_id

    workers = [h for h in hosts if ours(h) and not members[h.name].manager]
    managers = [h for h in hosts if ours(h) and members[h.name].manager]
    actions: list[LeaveSwarm] = [LeaveSwarm(cause="leave_swarm: clusterdeploy joined it",
                                            host=h.name) for h in workers]
    leaving = {members[h.name].node_id for h in (*workers, *managers)}
    staying = sorted(set(swarm_nodes) - leaving)
    notes = []
    for host in managers:
        if other_networks:
            notes.append(f"{host.name}: stays the swarm's manager: other clusters' networks use "
                         f"the swarm ({', '.join(other_networks)})")
        elif staying:
            notes.append(f"{host.name}: stays the swarm's manager: {len(staying)} node(s) that "
                         f"clusterdeploy did not join are in the swarm")
        else:
            actions.append(LeaveSwarmManager(cause="leave_swarm: clusterdeploy created the swarm",
                                             host=host.name))
    return actions, notes
