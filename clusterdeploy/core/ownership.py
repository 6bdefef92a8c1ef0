"""What on a Docker host is clusterdeploy's, as the observation proves it: directories, and
the containers, volumes and network a plan would touch.

clusterdeploy writes rendered files under `<state_dir>/<cluster>/<container>/` and marks the
files root and each container's directory with a MARKER file naming the cluster. Only a
directory proven ours is ever written into or removed: one holding our marker, or (made by a
version before markers) one that a container of the cluster bind-mounts.
"""

from __future__ import annotations

import posixpath

from ..errors import DeployError, on_host
from .desired import DesiredState
from .hashing import sha256_bytes
from .observed import ObservedState

MARKER = ".clusterdeploy"


def marker(cluster: str) -> bytes:
    """What a directory clusterdeploy made for a cluster's files holds, to prove it."""
    return f"made by clusterdeploy for cluster {cluster}\n".encode()


def _mounted(observed: ObservedState) -> set[str]:
    """Host directories the cluster's containers bind-mount."""
    return {mount.split(":", 1)[0] for c in observed.containers if c.attachment
            for mount in c.attachment.mounts}


def is_ours(directory: str, cluster: str, observed: ObservedState) -> bool:
    """Marked as the cluster's, or mounted by one of its containers (or the root of such)."""
    if observed.files.get(posixpath.join(directory, MARKER)) == sha256_bytes(marker(cluster)):
        return True
    mounted = _mounted(observed)
    return directory in mounted or any(posixpath.dirname(m) == directory for m in mounted)


def check_ownership(desired: DesiredState, observed: ObservedState, host: str) -> None:
    """Everything the plan would touch that has the cluster's name but is someone else's: one
    DeployError naming each, before any change."""
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
