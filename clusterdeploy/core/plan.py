"""plan(desired, observed) -> ordered actions, each with a cause a person reads.

Pure: no docker calls. Ownership is decided here: a container or network with the cluster's
name but without the cluster's label is an error naming it, never something to change.
"""

from __future__ import annotations

import posixpath

from ..errors import DeployError, on_host
from .actions import (
    Action,
    Bootstrap,
    Build,
    CollectLogs,
    Create,
    CreateNetwork,
    CreateVolume,
    Recreate,
    Remove,
    RemoveFiles,
    RemoveHosts,
    RemoveNetwork,
    RemoveVolume,
    Start,
    Tag,
    Wait,
    WriteFile,
    WriteHosts,
)
from .changes import describe_change, drift, not_running
from .desired import DesiredState
from .hashing import sha256_bytes
from .images import DesiredImage
from .observed import ObservedContainer, ObservedState
from .ownership import is_ours


def plan(desired: DesiredState, observed: ObservedState, host: str = "") -> list[Action]:
    """The actions that turn `observed` into `desired`, in the order they must run."""
    _check_ownership(desired, observed, host)
    actions: list[Action] = list(_image_actions(desired, observed))
    owned = {c.name: c for c in observed.containers}
    wanted = {c.name for c in desired.containers}
    removed = [Remove(cause="no longer in the spec", container=owned[name])
               for name in sorted(owned) if name not in wanted]
    actions += removed
    network_actions, recreated_network = _network_actions(
        desired, observed, owned, {a.container.name for a in removed}, host)
    actions += network_actions
    actions += _volume_actions(desired, observed)

    container_actions: list[Create | Recreate | Start] = []
    for container in desired.containers:
        current = owned.get(container.name)
        if current is None:
            container_actions.append(Create(cause="missing", container=container))
        elif recreated_network:
            container_actions.append(Recreate(
                cause=f"network {desired.network.name} is recreated", container=container,
                old=current))
        elif current.config_hash != container.config_hash:
            container_actions.append(Recreate(cause=describe_change(current, container),
                                              container=container, old=current))
        elif cause := drift(container, current.attachment):
            container_actions.append(Recreate(cause=cause, container=container, old=current))
        elif not current.running:
            container_actions.append(Start(cause=not_running(current), container=container))

    for container in desired.containers:
        for f in container.files:
            path = posixpath.join(container.files_host_dir, f.path)
            if observed.files.get(path) != sha256_bytes(f.content):
                cause = "missing" if path not in observed.files else "content changed"
                actions.append(WriteFile(cause=cause, container=container, file=f))
    actions += container_actions

    started = len(container_actions)
    unhealthy = [c.name for c in desired.containers
                 if c.healthcheck and (o := owned.get(c.name)) and o.running
                 and o.health not in (None, "healthy")
                 and c.name not in {a.container.name for a in container_actions}]
    if started or unhealthy:
        cause = ", ".join(filter(None, [
            f"{started} container{'s' if started != 1 else ''} (re)started" if started else "",
            f"{', '.join(unhealthy)} not healthy" if unhealthy else "",
        ]))
        actions.append(Wait(cause=cause, containers=desired.containers))

    actions += _after_health(desired, observed, container_actions)

    wanted_dirs = {c.files_host_dir for c in desired.containers}
    stale = sorted({posixpath.dirname(p) for p in observed.files
                    if posixpath.dirname(posixpath.dirname(p)) == desired.files_root}
                   - wanted_dirs)
    actions += [RemoveFiles(cause="no longer in the spec", directory=d) for d in stale
                if is_ours(d, desired.cluster, observed)]
    going = [*(a.container for a in removed),
             *(a.old for a in container_actions if isinstance(a, Recreate))]
    if going:  # their logs outlive them: a crash a redeploy "repaired" can still be read
        actions.insert(0, CollectLogs(cause="before they are removed or replaced",
                                      containers=tuple(sorted(going, key=lambda c: c.name)),
                                      label="deploy"))
    return actions


def _after_health(desired: DesiredState, observed: ObservedState,
                  started: list[Create | Recreate | Start]) -> list[Action]:
    """The bootstrap, when it is due, and the /etc/hosts block, when it differs."""
    actions: list[Action] = []
    bootstrap = desired.bootstrap
    if bootstrap is not None:
        recorded = observed.files.get(bootstrap.record_path)
        nodes_new = any(isinstance(a, Create | Recreate) and a.container.member != "tester"
                        for a in started)
        data_new = any(v.name not in observed.volumes for v in desired.volumes)
        cause = ("it runs on every deploy" if bootstrap.when == "always"
                 else "the cluster was never bootstrapped" if recorded is None
                 else "its command changed" if recorded != sha256_bytes(bootstrap.record)
                 else "data volumes are new" if data_new
                 else "nodes were (re)created" if bootstrap.when == "recreated" and nodes_new
                 else "")
        if cause:
            actions.append(Bootstrap(cause=cause, bootstrap=bootstrap))
    if desired.hosts_block is not None and desired.hosts_block != observed.hosts_block:
        actions.append(WriteHosts(cause="changed" if observed.hosts_block else "missing",
                                  cluster=desired.cluster, block=desired.hosts_block))
    elif desired.hosts_block is None and observed.hosts_block:
        actions.append(RemoveHosts(cause="host_names is off", cluster=desired.cluster))
    return actions


def _volume_actions(desired: DesiredState, observed: ObservedState,
                    ) -> list[CreateVolume | RemoveVolume]:
    """Data volumes: made before their containers, kept when a node goes (unless the volume
    says `keep: false`): a node's data outlives its container."""
    wanted = {v.name for v in desired.volumes}
    actions: list[CreateVolume | RemoveVolume] = [
        CreateVolume(cause="missing", volume=v) for v in desired.volumes
        if v.name not in observed.volumes]
    actions += [RemoveVolume(cause="no longer in the spec (keep: false)", volume=v)
                for name, v in sorted(observed.volumes.items())
                if v.cluster == desired.cluster and name not in wanted and not v.keep]
    return actions


def _check_ownership(desired: DesiredState, observed: ObservedState, host: str) -> None:
    def where(text: str) -> str:
        return on_host(host, text) if host else text

    problems = []
    for container in desired.containers:
        owner = observed.names.get(container.name)
        if owner is not None and owner != desired.cluster:
            whose = f"cluster {owner!r}" if owner else "no clusterdeploy cluster"
            problems.append(where(
                f"container {container.name} already exists and belongs to {whose}; "
                f"clusterdeploy leaves it alone (remove or rename it, or choose another "
                f"container_name for {container.member})"))
    if observed.files_root_exists and not is_ours(desired.files_root, desired.cluster, observed):
        problems.append(where(
            f"{desired.files_root} exists and was not made by clusterdeploy for cluster "
            f"{desired.cluster}; clusterdeploy writes nothing there (choose another state_dir, "
            f"or remove that directory)"))
    for volume in desired.volumes:
        found = observed.volumes.get(volume.name)
        if found is not None and found.cluster != desired.cluster:
            whose = f"cluster {found.cluster!r}" if found.cluster else "no clusterdeploy cluster"
            problems.append(where(
                f"volume {volume.name} already exists and belongs to {whose}; clusterdeploy "
                f"leaves it alone (remove or rename it, or rename the volume of "
                f"{volume.member})"))
    network = observed.network(desired.network.name)
    if network is not None and network.cluster != desired.cluster:
        whose = f"cluster {network.cluster!r}" if network.cluster else "no clusterdeploy cluster"
        problems.append(where(
            f"network {network.name} already exists and belongs to {whose}; "
            f"clusterdeploy leaves it alone (remove it, or set network.name to another name)"))
    if problems:
        raise DeployError("\n".join(problems))


def _required(image: DesiredImage, chain: tuple[DesiredImage, ...]) -> tuple[DesiredImage, ...]:
    """The images `image` is built from, transitively, in build order."""
    by_key = {i.key: i for i in chain}
    needed: set[str] = set()

    def visit(key: str) -> None:
        for required in by_key[key].requires:
            if required not in needed:
                needed.add(required)
                visit(required)

    visit(image.key)
    return tuple(i for i in chain if i.key in needed)


def _image_actions(desired: DesiredState, observed: ObservedState) -> list[Build | Tag]:
    actions: list[Build | Tag] = []
    for image in desired.images:
        if image.ref not in observed.images:
            previous = observed.images.get(image.latest)
            cause = "content changed" if previous else "not on the host"
            actions.append(Build(cause=f"{cause} ({image.key})", image=image,
                                 requires=_required(image, desired.build_chain),
                                 tag_latest=observed.may_tag(image.latest)))
        elif observed.images.get(image.latest) != observed.images[image.ref] and \
                observed.may_tag(image.latest):
            actions.append(Tag(cause=f"points to {image.ref}", image=image))
    return actions


def _network_actions(desired: DesiredState, observed: ObservedState,
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
