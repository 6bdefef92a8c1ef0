"""One plan per host for a cluster over several hosts, each knowing what the others do.

Pure. Every host is planned like a cluster on one host (core/plan.py) with what the other
hosts' plans mean for it (`Elsewhere`): which host manages the network (and whether it
recreates it), which containers move in or out, and whether the bootstrap is due because of
nodes or data on other hosts. A node observed on one host and placed on another moves:
removed there (its logs collected first), created here, the cause naming both hosts.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from .actions import Action, Create, Recreate, RemoveNetwork
from .desired import DesiredState
from .observed import ObservedState
from .plan import Elsewhere, all_volumes_new, plan


def plan_hosts(desired: Mapping[str, DesiredState], observed: Mapping[str, ObservedState],
               network_host: str) -> dict[str, list[Action]]:
    """Each host's actions, in the order of `desired` (the spec's host order)."""
    moved_out: dict[str, dict[str, str]] = {h: {} for h in desired}
    moved_in: dict[str, dict[str, str]] = {h: {} for h in desired}
    placed = {c.name: h for h, d in desired.items() for c in d.containers}
    for host, seen in observed.items():
        for container in seen.containers:
            target = placed.get(container.name)
            if target is not None and target != host:
                moved_out[host][container.name] = target
                if observed[target].container(container.name) is None:
                    moved_in[target][container.name] = host
    facts = {h: Elsewhere(network_host=h == network_host, moved_in=moved_in[h],
                          moved_out=moved_out[h]) for h in desired}

    plans = {network_host: plan(desired[network_host], observed[network_host], network_host,
                                facts[network_host])}
    network = desired[network_host].network.name
    recreated = any(isinstance(a, RemoveNetwork) and a.network.name == network
                    for a in plans[network_host])
    for host in desired:
        if host != network_host:
            facts[host] = dataclasses.replace(facts[host], network_recreated=recreated)
            plans[host] = plan(desired[host], observed[host], host, facts[host])

    # The bootstrap runs on one host but is due for what happens on all of them.
    bootstrap_host = next((h for h, d in desired.items() if d.bootstrap is not None), None)
    if bootstrap_host is not None and len(desired) > 1:
        others = [a for h, actions in plans.items() if h != bootstrap_host for a in actions]
        with_volumes = [h for h, d in desired.items() if d.volumes]
        facts[bootstrap_host] = dataclasses.replace(
            facts[bootstrap_host],
            nodes_new=any(isinstance(a, Create | Recreate) and a.container.member != "tester"
                          for a in others),
            data_new=bool(with_volumes) and all(all_volumes_new(desired[h], observed[h])
                                                for h in with_volumes))
        plans[bootstrap_host] = plan(desired[bootstrap_host], observed[bootstrap_host],
                                     bootstrap_host, facts[bootstrap_host])
    return {host: plans[host] for host in desired}
