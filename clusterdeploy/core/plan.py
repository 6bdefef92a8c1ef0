"""plan(desired, observed) -> ordered actions, each with a cause a person reads.

Pure: no docker calls. Ownership is decided here: a container or network with the cluster's
name but without the cluster's label is an error naming it, never something to change.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field

from . import labels
from .actions import (
    Action,
    Bootstrap,
    Build,
    CollectLogs,
    Create,
    CreateVolume,
    HealFaults,
    Recreate,
    Remove,
    RemoveFiles,
    RemoveHosts,
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
from .networkplan import plan_local_networks, plan_network
from .observed import ObservedContainer, ObservedState
from .ownership import check_ownership, is_ours


@dataclass(frozen=True)
class Elsewhere:
    """What the other hosts' plans mean for this host's, in a cluster over several hosts
    (core/hostplans.py); the defaults are a cluster on one host."""

    network_host: bool = True  # this host creates and removes the cluster's network
    network_recreated: bool = False  # the network host recreates it: every container follows
    moved_in: Mapping[str, str] = field(default_factory=dict)  # container -> host it leaves
    moved_out: Mapping[str, str] = field(default_factory=dict)  # container -> host it goes to
    nodes_new: bool = False  # another host creates or recreates a node
    data_new: bool | None = None  # every data volume of the cluster is new (None: ask here)


def plan(desired: DesiredState, observed: ObservedState, host: str = "",
         elsewhere: Elsewhere = Elsewhere()) -> list[Action]:
    """The actions that turn `observed` into `desired`, in the order they must run."""
    check_ownership(desired, observed, host)
    actions: list[Action] = list(_image_actions(desired, observed))
    heal = _heal_actions(desired, observed)
    actions += heal
    unpaused = {n for a in heal if isinstance(a, HealFaults) for n in a.unpause}
    owned = {c.name: c for c in observed.containers}
    wanted = {c.name for c in desired.containers}
    moved_out, moved_in = elsewhere.moved_out, elsewhere.moved_in
    removed = [Remove(cause=_moved(host, moved_out[name], owned[name], observed)
                      if name in moved_out else "no longer in the spec", container=owned[name])
               for name in sorted(owned) if name not in wanted]
    actions += removed
    gone = {a.container.name for a in removed}
    if elsewhere.network_host:
        network_actions, recreated_network = plan_network(desired, observed, owned, gone, host)
    else:
        network_actions, recreated_network = plan_local_networks(desired, observed, owned,
                                                                   gone)
        recreated_network = recreated_network or elsewhere.network_recreated
    actions += network_actions
    actions += _volume_actions(desired, observed, moved_in)

    container_actions: list[Create | Recreate | Start] = []
    for container in desired.containers:
        current = owned.get(container.name)
        if current is None:
            cause = (f"moved from {moved_in[container.name]} to {host}"
                     if container.name in moved_in else "missing")
            container_actions.append(Create(cause=cause, container=container))
        elif recreated_network:
            container_actions.append(Recreate(
                cause=f"network {desired.network.name} is recreated", container=container,
                old=current))
        elif current.config_hash != container.config_hash:
            container_actions.append(Recreate(cause=describe_change(current, container),
                                              container=container, old=current))
        elif cause := drift(container, current.attachment):
            container_actions.append(Recreate(cause=cause, container=container, old=current))
        elif not current.running and container.name not in unpaused:
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
    if started or unhealthy or unpaused:
        cause = ", ".join(filter(None, [
            f"{started} container{'s' if started != 1 else ''} (re)started" if started else "",
            f"{len(unpaused)} unpaused" if unpaused else "",
            f"{', '.join(unhealthy)} not healthy" if unhealthy else "",
        ]))
        actions.append(Wait(cause=cause, containers=desired.containers))

    actions += _after_health(desired, observed, container_actions, elsewhere)

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
                                      label="deploy", faults_dir=desired.faults_dir,
                                      latest=False))
    return actions


def _heal_actions(desired: DesiredState, observed: ObservedState) -> list[Build | HealFaults]:
    """Heal the journal's faults (and unpause paused containers) before anything else: a
    fault is drift. The helper image that cleans a namespace is the one that applied the
    fault, else the desired one, built when the host lacks it."""
    paused = sorted(c.name for c in observed.containers if c.status == "paused")
    if not observed.faults and not paused:
        return []
    live = {c.name for c in observed.containers if c.status in ("running", "paused")}
    named = {c for f in observed.faults for c in f.containers}
    if any(f.fault == "unreadable" for f in observed.faults):
        named = live
    sweep = tuple(sorted(named & live))
    actions: list[Build | HealFaults] = []
    helper = next((f.helper for f in observed.faults if f.helper in observed.images), "")
    if sweep and not helper and desired.fault_helper is not None:
        helper = desired.fault_helper.ref
        if helper not in observed.images:
            actions.append(Build(cause=f"not on the host ({desired.fault_helper.key}): to heal "
                                       f"faults", image=desired.fault_helper, tag_latest=False))
    count = len(observed.faults)
    what = ", ".join(str(f) for f in observed.faults)
    cause = ", ".join(filter(None, [
        f"{count} active fault{'s' if count != 1 else ''} ({what})" if count else "",
        f"{', '.join(paused)} paused" if paused else ""]))
    actions.append(HealFaults(cause=cause, cluster=desired.cluster, faults=observed.faults,
                              sweep=sweep, unpause=tuple(paused), helper=helper,
                              directory=desired.faults_dir))
    return actions


def _after_health(desired: DesiredState, observed: ObservedState,
                  started: list[Create | Recreate | Start], elsewhere: Elsewhere) -> list[Action]:
    """The bootstrap, when it is due, and the /etc/hosts block, when it differs."""
    actions: list[Action] = []
    bootstrap = desired.bootstrap
    if bootstrap is not None:
        recorded = observed.files.get(bootstrap.record_path)
        nodes_new = elsewhere.nodes_new or any(
            isinstance(a, Create | Recreate) and a.container.member != "tester" for a in started)
        data_new = all_volumes_new(desired, observed) if elsewhere.data_new is None \
            else elsewhere.data_new
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


def all_volumes_new(desired: DesiredState, observed: ObservedState) -> bool:
    """Every data volume is missing: the data is new (a first deploy, or after the volumes
    were removed), not one node's volume on a host it moved to."""
    return bool(desired.volumes) and all(v.name not in observed.volumes for v in desired.volumes)


def _moved(host: str, target: str, container: ObservedContainer,
           observed: ObservedState) -> str:
    """The cause of removing a node that moves to another host, naming the data it leaves."""
    kept = sorted(name for name, v in observed.volumes.items()
                  if v.keep and v.labels.get(labels.MEMBER) == container.member
                  and v.cluster == container.labels.get(labels.CLUSTER))
    stays = (f" (its volume{'s' if len(kept) > 1 else ''} {', '.join(kept)} "
             f"stay{'' if len(kept) > 1 else 's'} on {host})") if kept else ""
    return f"moved from {host} to {target}{stays}"


def _volume_actions(desired: DesiredState, observed: ObservedState,
                    moved_in: Mapping[str, str]) -> list[CreateVolume | RemoveVolume]:
    """Data volumes: made before their containers, kept when a node goes (unless the volume
    says `keep: false`): a node's data outlives its container, and stays on its host when the
    node moves to another."""
    wanted = {v.name for v in desired.volumes}
    origin = {c.member: moved_in[c.name] for c in desired.containers if c.name in moved_in}
    actions: list[CreateVolume | RemoveVolume] = [
        CreateVolume(cause=f"missing (its node moved here from {origin[v.member]}, whose data "
                           f"stays there)" if v.member in origin else "missing", volume=v)
        for v in desired.volumes if v.name not in observed.volumes]
    actions += [RemoveVolume(cause="no longer in the spec (keep: false)", volume=v)
                for name, v in sorted(observed.volumes.items())
                if v.cluster == desired.cluster and name not in wanted and not v.keep]
    return actions


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


