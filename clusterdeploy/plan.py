"""plan(desired, observed) -> ordered actions, each with a cause a person reads.

Pure: no docker calls. `str(action)` is the line shown by `--dry`, in logs and in golden tests.
Ownership is decided here: a container or network with the cluster's name but without the
cluster's label is an error naming it, never something to change.
"""

from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass
from enum import StrEnum

from . import labels
from .desired import DesiredContainer, DesiredState
from .errors import DeployError
from .hashing import sha256_bytes
from .observe import ObservedContainer, ObservedState


class Kind(StrEnum):
    BUILD = "build"
    STOP = "stop"
    KILL = "kill"
    TAG = "tag"
    REMOVE = "remove"
    REMOVE_NETWORK = "remove-network"
    CREATE_NETWORK = "create-network"
    WRITE_FILE = "write-file"
    CREATE = "create"
    RECREATE = "recreate"
    START = "start"
    WAIT = "wait"
    REMOVE_FILES = "remove-files"


@dataclass(frozen=True)
class Action:
    kind: Kind
    target: str
    cause: str

    def __str__(self) -> str:
        return f"{self.kind} {self.target}: {self.cause}"


def plan(desired: DesiredState, observed: ObservedState, host: str = "") -> list[Action]:
    """The actions that turn `observed` into `desired`, in the order they must run."""
    where = f"{host}: " if host else ""
    if observed.error:
        raise DeployError(f"{where}cannot talk to Docker: {observed.error.splitlines()[-1]}")
    _check_ownership(desired, observed, where)

    actions: list[Action] = []
    actions += _image_actions(desired, observed)

    owned = {c.name: c for c in observed.containers}
    wanted = {c.name for c in desired.containers}
    actions += [Action(Kind.REMOVE, name, "no longer in the spec")
                for name in sorted(owned) if name not in wanted]

    network_actions, network_recreated = _network_actions(desired, observed, owned, where)
    actions += network_actions

    container_actions: list[Action] = []
    for container in desired.containers:
        current = owned.get(container.name)
        if current is None:
            container_actions.append(Action(Kind.CREATE, container.name, "missing"))
        elif network_recreated:
            container_actions.append(Action(Kind.RECREATE, container.name,
                                            f"network {desired.network.name} is recreated"))
        elif current.config_hash != container.config_hash:
            container_actions.append(Action(Kind.RECREATE, container.name,
                                            describe_change(current, container)))
        elif not current.running:
            container_actions.append(Action(Kind.START, container.name, _not_running(current)))

    for container in desired.containers:
        for f in container.files:
            path = posixpath.join(container.files_host_dir, f.path)
            if observed.files.get(path) != sha256_bytes(f.content):
                cause = "missing" if path not in observed.files else "content changed"
                actions.append(Action(Kind.WRITE_FILE, path, cause))
    actions += container_actions

    waiting = [a.target for a in container_actions]
    unhealthy = [c.name for c in desired.containers
                 if c.healthcheck and (o := owned.get(c.name)) and o.running
                 and o.health not in (None, "healthy") and c.name not in waiting]
    if waiting or unhealthy:
        cause = ", ".join(filter(None, [
            f"{len(waiting)} container{'s' if len(waiting) != 1 else ''} (re)started"
            if waiting else "",
            f"{', '.join(unhealthy)} not healthy" if unhealthy else "",
        ]))
        actions.append(Action(Kind.WAIT, "healthy", cause))

    wanted_dirs = {c.files_host_dir for c in desired.containers}
    stale = sorted({posixpath.dirname(p) for p in observed.files
                    if posixpath.dirname(posixpath.dirname(p)) == desired.files_root}
                   - wanted_dirs)
    actions += [Action(Kind.REMOVE_FILES, d, "no longer in the spec") for d in stale]
    return actions


def _check_ownership(desired: DesiredState, observed: ObservedState, where: str) -> None:
    problems = []
    for container in desired.containers:
        owner = observed.names.get(container.name)
        if owner is not None and owner != desired.cluster:
            whose = f"cluster {owner!r}" if owner else "no clusterdeploy cluster"
            problems.append(
                f"{where}container {container.name} already exists and belongs to {whose}; "
                f"clusterdeploy leaves it alone (remove or rename it, or choose another "
                f"container_name for {container.member})")
    network = observed.network(desired.network.name)
    if network is not None and network.cluster != desired.cluster:
        whose = f"cluster {network.cluster!r}" if network.cluster else "no clusterdeploy cluster"
        problems.append(
            f"{where}network {network.name} already exists and belongs to {whose}; "
            f"clusterdeploy leaves it alone (remove it, or set network.name to another name)")
    if problems:
        raise DeployError("\n".join(problems))


def _image_actions(desired: DesiredState, observed: ObservedState) -> list[Action]:
    actions = []
    for image in desired.images:
        if image.ref not in observed.images:
            previous = observed.images.get(image.latest)
            cause = "content changed" if previous else "not on the host"
            actions.append(Action(Kind.BUILD, image.ref, f"{cause} ({image.key})"))
        elif observed.images.get(image.latest) != observed.images[image.ref]:
            actions.append(Action(Kind.TAG, image.latest, f"points to {image.ref}"))
    return actions


def _network_actions(desired: DesiredState, observed: ObservedState,
                     owned: dict[str, ObservedContainer], where: str) -> tuple[list[Action], bool]:
    actions: list[Action] = []
    target = desired.network
    current = observed.network(target.name)
    recreated = False
    if current is None:
        actions.append(Action(Kind.CREATE_NETWORK, target.name,
                              f"missing (subnet {target.subnet})"))
    elif current.config_hash != target.config_hash:
        foreign = sorted(name for cid, name in current.containers.items()
                         if name not in owned or owned[name].id != cid)
        if foreign:
            raise DeployError(
                f"{where}network {target.name} must be recreated (subnet "
                f"{', '.join(current.subnets) or 'none'} -> {target.subnet}) but containers "
                f"outside the cluster use it: {', '.join(foreign)} (disconnect them first)")
        actions.append(Action(Kind.REMOVE_NETWORK, target.name, "its settings changed"))
        actions.append(Action(Kind.CREATE_NETWORK, target.name, f"subnet {target.subnet}"))
        recreated = True
    for other in observed.networks:
        if other.cluster == desired.cluster and other.name != target.name:
            actions.append(Action(Kind.REMOVE_NETWORK, other.name, "no longer in the spec"))
    return actions, recreated


def _not_running(container: ObservedContainer) -> str:
    if container.status == "exited":
        return f"not running (exited with code {container.exit_code})"
    return f"not running ({container.status})"


def describe_change(current: ObservedContainer, desired: DesiredContainer) -> str:
    """What differs, from the config the container was created with (its label)."""
    try:
        before = json.loads(current.labels.get(labels.CONFIG, "") or "null")
    except json.JSONDecodeError:
        before = None
    if not isinstance(before, dict):
        return "config changed"
    after = desired.hash_input()
    changes = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if isinstance(old, dict) and isinstance(new, dict):
            names = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
            changes.append(f"{key} changed: {', '.join(names)}")
        else:
            changes.append(f"{key} changed")
    return "; ".join(changes) or "config changed"


def plan_teardown(cluster: str, observed: ObservedState, files_root: str, force: bool = False,
                  host: str = "") -> list[Action]:
    """Stop (or kill) and remove every container and network labelled with the cluster."""
    where = f"{host}: " if host else ""
    if observed.error:
        raise DeployError(f"{where}cannot talk to Docker: {observed.error.splitlines()[-1]}")
    actions: list[Action] = []
    for container in sorted(observed.containers, key=lambda c: c.name):
        if container.running:
            kind, cause = (Kind.KILL, "forced") if force else (Kind.STOP, "graceful")
            actions.append(Action(kind, container.name, cause))
        actions.append(Action(Kind.REMOVE, container.name, "teardown"))
    actions += [Action(Kind.REMOVE_NETWORK, n.name, "teardown")
                for n in observed.networks if n.cluster == cluster]
    if any(posixpath.dirname(posixpath.dirname(p)) == files_root for p in observed.files):
        actions.append(Action(Kind.REMOVE_FILES, files_root, "teardown"))
    return actions
