"""plan_teardown(observed) -> the actions that remove a cluster from a host, logs first.

Graceful (stop: SIGTERM, then each container's grace period) or forced (kill); only what is
labelled with the cluster is touched, and only a files root proven the cluster's is removed.
"""

from __future__ import annotations

from .actions import Action, CollectLogs, Kill, Remove, RemoveFiles, RemoveNetwork, Stop
from .observed import ObservedState
from .ownership import is_ours


def plan_teardown(cluster: str, observed: ObservedState, files_root: str,
                  force: bool = False, faults_dir: str = "") -> list[Action]:
    """Collect logs, stop (or kill) and remove every container and network of the cluster,
    and its fault journal (its faults go with the containers)."""
    containers = sorted(observed.containers, key=lambda c: c.name)
    actions: list[Action] = []
    if containers:
        actions.append(CollectLogs(cause="teardown", containers=tuple(containers),
                                   label="teardown", faults_dir=faults_dir))
    for container in containers:
        if container.running:
            actions.append(Kill(cause="forced", container=container) if force
                           else Stop(cause="graceful", container=container))
    actions += [Remove(cause="teardown", container=c) for c in containers]
    actions += [RemoveNetwork(cause="teardown", network=n)
                for n in observed.networks if n.cluster == cluster]
    if observed.files_root_exists and is_ours(files_root, cluster, observed):
        actions.append(RemoveFiles(cause="teardown", directory=files_root))
    if faults_dir and observed.faults_dir_exists:
        actions.append(RemoveFiles(cause="teardown: the fault journal", directory=faults_dir))
    return actions
