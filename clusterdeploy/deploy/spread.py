"""A cluster over several hosts, prepared once for all of them.

pyinfra loads deploy.py once per host, in parallel. The first load to get here prepares the
whole cluster: it takes every host's lock (in the spec's order, so two deploys cannot each
hold half), observes every host at once (the cluster and its swarm membership), plans the
swarm and every host's part with what the others do (core/hostplans.py). A host that cannot
be reached or read fails every load before anything changes anywhere. Each load then takes
its own host's actions; pyinfra runs each phase on every host before the next, so the swarm
exists before the network, the network before the containers, and a node leaves its old host
before it starts on the new one. With FAIL_PERCENT 0, a failure on one host stops the others
after that phase.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from pyinfra import logger, state

from ..clusterspec import Host, Spec
from ..core.actions import Action, RemoveNetwork
from ..core.desired import faults_dir, files_root
from ..core.hostplans import plan_hosts
from ..core.observed import ObservedState
from ..core.render import Rendered
from ..core.swarm import plan_leave, plan_swarm
from ..core.teardown import plan_teardown
from ..docker.swarm import SwarmObservation
from ..errors import ClusterDeployError, DeployError, on_host
from .facts import SwarmState
from .inventory import inventory_name
from .reading import deploy_view, images_to_observe, lock, observe, state_dir


@dataclass(frozen=True)
class HostView:
    """What one host holds, as its preparation read it."""

    host: Host
    pyhost: Any  # pyinfra's Host: its connection and data
    observed: ObservedState
    swarm: SwarmObservation


Planner = Callable[[Spec, Rendered, dict[str, HostView]], dict[str, list[Action]]]

_guard = threading.Lock()  # a gevent lock under pyinfra's CLI (it monkey-patches threading)
_prepared: dict[tuple[str, str], dict[str, list[Action]] | ClusterDeployError] = {}


def actions_for(kind: str, spec: Spec, rendered: Rendered, target: Host,
                planner: Planner) -> list[Action]:
    """This host's actions of the cluster-wide plan `kind` ("deploy", "teardown"), prepared
    by the first host to ask."""
    key = (kind, str(spec.file))
    with _guard:
        if key not in _prepared:
            try:
                _prepared[key] = planner(spec, rendered, _views(spec, kind))
            except ClusterDeployError as exc:
                _prepared[key] = exc
        prepared = _prepared[key]
    if isinstance(prepared, ClusterDeployError):
        raise prepared
    return prepared[target.name]


def pyinfra_host(host: Host) -> Any:
    """pyinfra's Host for a spec host, connected; DeployError naming it when it is not."""
    found = state.inventory.get_host(inventory_name(host), None)
    if found is None:
        raise DeployError(on_host(host.name, "is not in pyinfra's inventory (deploy with the "
                                             "inventory.py that lists the spec's hosts, and "
                                             "without --limit: the cluster spans every host)"))
    if found in state.failed_hosts or not found.connected:
        raise DeployError(on_host(host.name, "cannot be reached (pyinfra says why above); "
                                             "nothing was changed on any host"))
    return found


OUT_OF_STEP = ("--limit", "--serial", "--no-wait")  # pyinfra flags that break the phases


def check_flags(argv: list[str]) -> None:
    """A cluster over several hosts needs every host, each phase on all before the next."""
    used = [flag for flag in OUT_OF_STEP if any(a == flag or a.startswith(f"{flag}=")
                                                 for a in argv)]
    if used:
        raise DeployError(f"{' and '.join(used)}: a cluster over several hosts is deployed on "
                          f"every host, each phase on all of them before the next (run "
                          f"pyinfra without {' and '.join(used)})")


def _views(spec: Spec, kind: str) -> dict[str, HostView]:
    check_flags(sys.argv)
    pyhosts = {h.name: pyinfra_host(h) for h in spec.hosts}
    for host in spec.hosts:
        lock(spec, host, pyhosts[host.name])

    def read(host: Host) -> HostView:
        pyhost = pyhosts[host.name]
        swarm: SwarmObservation | None = pyhost.get_fact(
            SwarmState, state_dir=state_dir(spec, host, pyhost), host_name=host.name)
        if swarm is None:
            raise DeployError(on_host(host.name, "cannot read its swarm membership"))
        return HostView(host, pyhost, observe(spec, host, pyhost, images_to_observe(spec, kind)),
                        swarm)

    with ThreadPoolExecutor(max_workers=len(spec.hosts)) as pool:
        futures = {h.name: pool.submit(read, h) for h in spec.hosts}
    problems, views = [], {}
    for name, future in futures.items():
        try:
            views[name] = future.result()
        except ClusterDeployError as exc:
            problems.append(str(exc))
    if problems:
        raise DeployError("\n".join([*problems, "nothing was changed on any host"]))
    state.config.FAIL_PERCENT = 0  # from now on, one host fails: the others stop after that phase
    return views


def deploy_plans(spec: Spec, rendered: Rendered, views: dict[str, HostView],
                 ) -> dict[str, list[Action]]:
    """Every host's deploy: the swarm's joins first, then its part of the cluster."""
    swarm = plan_swarm(spec.hosts, {n: v.swarm.member for n, v in views.items()},
                       spec.network.subnet)
    seen = {h.name: deploy_view(spec, rendered, h, views[h.name].observed, views[h.name].pyhost)
            for h in spec.hosts}
    plans = plan_hosts({n: d for n, (d, _) in seen.items()},
                       {n: o for n, (_, o) in seen.items()}, swarm.manager)
    for action in swarm.actions:
        plans[action.host].insert(0, action)
    return plans


def teardown_plans(spec: Spec, views: dict[str, HostView], *, force: bool,
                   remove_volumes: bool, leave_swarm: bool,
                   collect_logs: bool = True) -> dict[str, list[Action]]:
    """Every host's teardown; the overlay network goes on the swarm's manager (workers cannot
    remove it), and with `leave_swarm` the hosts clusterdeploy put into the swarm leave it."""
    members = {n: v.swarm.member for n, v in views.items()}
    manager = next((h.name for h in spec.hosts
                    if members[h.name].active and members[h.name].manager), None)
    plans = {}
    for host in spec.hosts:
        view = views[host.name]
        where = state_dir(spec, host, view.pyhost)
        actions = plan_teardown(spec.name, view.observed, files_root(spec.name, where),
                                force=force, remove_volumes=remove_volumes,
                                faults_dir=faults_dir(spec.name, where), collect_logs=collect_logs)
        plans[host.name] = [a for a in actions if host.name == manager or not (
            isinstance(a, RemoveNetwork) and a.network.scope == "swarm")]
    if leave_swarm and manager is not None:
        chief = views[manager].swarm
        others = sorted(name for name, cluster in chief.overlays.items()
                        if cluster and cluster != spec.name)
        leaves, notes = plan_leave(spec.hosts, members, others, chief.nodes)
        for action in leaves:
            plans[action.host].append(action)
        for note in notes:
            logger.warning(note)
    return plans
