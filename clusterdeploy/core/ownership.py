"""Which directories on a Docker host are clusterdeploy's, as the observation proves it.

clusterdeploy writes rendered files under `<state_dir>/<cluster>/<container>/` and marks the
files root and each container's directory with a MARKER file naming the cluster. Only a
directory proven ours is ever written into or removed: one holding our marker, or (made by a
version before markers) one that a container of the cluster bind-mounts.
"""

from __future__ import annotations

import posixpath

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
