"""plan_teardown(observed) -> the actions that remove a cluster from a host, logs first.

Graceful (stop: SIGTERM, then each container's grace period) or forced (kill); only what is
labelled with the cluster is touched, and only a files root proven the cluster's is removed.
"""

from __future__ import annotations

import posixpath

from .actions import (
    Action,
    CollectLogs,
    Kill,
    Remove,
    RemoveFiles,
    RemoveHosts,
    RemoveNetwork,
    RemoveVolume,
    Stop,
)
from .desired import bootstrap_record
from .observed import ObservedState
from .ownership import is_ours


def plan_teardown(cluster: str, observed: ObservedState, files_root: str,
                  force: bool = False, remove_volumes: bool = False,
                  faults_dir: str = "", collect_logs: bool = True) -> list[Action]:
    """Collect logs (unless `collect_logs` is off), stop (or kill) and remove every container
    and network of the cluster, and its fault journal (its faults go with the containers); its
    data volumes only when asked (`remove_volumes`) or marked `keep: false`."""
    containers = sorted(observed.containers, key=lambda c: c.name)
    actions: list[Action] = []
    if containers and collect_logs:
        actions.append(CollectLogs(cause="teardown", containers=tuple(containers),
                                   label="teardown", faults_dir=faults_dir))
    for container in containers:
        if container.running:
            actions.append(Kill(cause="forced", container=container) if force
                           else Stop(cause="graceful", container=container))
    actions += [Remove(cause="teardown", container=c) for c in containers]
    actions += [RemoveNetwork(cause="teardown", network=n)
                for n in observed.networks if n.cluster == cluster]
    actions += [RemoveVolume(cause="teardown" if not v.keep else "teardown (volumes=remove)",
                             volume=v)
                for _, v in sorted(observed.volumes.items())
                if v.cluster == cluster and (remove_volumes or not v.keep)]
    if observed.hosts_block:
        actions.append(RemoveHosts(cause="teardown", cluster=cluster))
    if observed.files_root_exists and is_ours(files_root, cluster, observed):
        kept = [v for v in observed.volumes.values()
                if v.cluster == cluster and not (remove_volumes or not v.keep)]
        if kept and bootstrap_record(files_root) in observed.files:
            actions += _remove_all_but_the_record(cluster, observed, files_root)
        else:
            actions.append(RemoveFiles(cause="teardown", directory=files_root))
    if faults_dir and observed.faults_dir_exists:
        actions.append(RemoveFiles(cause="teardown: the fault journal", directory=faults_dir))
    return actions


def _remove_all_but_the_record(cluster: str, observed: ObservedState,
                               files_root: str) -> list[Action]:
    """The bootstrap's effect lives in the kept volumes, so its record stays with them: the
    next deploy finds the data bootstrapped and does not bootstrap it again."""
    members = sorted({posixpath.dirname(p) for p in observed.files
                      if posixpath.dirname(posixpath.dirname(p)) == files_root})
    return [RemoveFiles(cause="teardown (the bootstrap record stays with the kept volumes)",
                        directory=d) for d in members if is_ours(d, cluster, observed)]
