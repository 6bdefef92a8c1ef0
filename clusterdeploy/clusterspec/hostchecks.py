"""Checks of the hosts list: names unique, at most one local engine, and what needs one host."""

from __future__ import annotations

import ipaddress
from collections import Counter

from ..errors import Problem
from .model import Spec
from .overlay import endpoint_block_size


def check_hosts(spec: Spec) -> list[Problem]:
    problems = []
    counts = Counter(h.name for h in spec.hosts)
    seen: set[str] = set()
    for i, host in enumerate(spec.hosts):
        if counts[host.name] > 1 and host.name in seen:
            problems.append(Problem(f"hosts[{i}].name", f"host name {host.name!r} is listed "
                                    f"{counts[host.name]} times", "give each host its own name"))
        seen.add(host.name)
    local = [i for i, h in enumerate(spec.hosts) if h.is_local]
    problems += [Problem(f"hosts[{i}]", f"{spec.hosts[i].name!r} is the local engine too (it "
                         f"has no ssh:), like {spec.hosts[local[0]].name!r}",
                         "list the local engine once, or give this host ssh: settings")
                 for i in local[1:]]
    if spec.spans_hosts and spec.host_names:
        problems.append(Problem("host_names", "host names in /etc/hosts need a cluster on one "
                                "host: over several hosts the nodes live on an overlay network "
                                "that the hosts themselves cannot reach",
                                "remove host_names, or list one host"))
    return problems


def check_overlay(spec: Spec) -> list[Problem]:
    """Over several hosts: room in the subnet for Swarm's endpoint range, and no node in it."""
    if not spec.spans_hosts:
        return []
    network = ipaddress.IPv4Network(spec.network.subnet)
    if spec.network.endpoint_range is None:
        size = endpoint_block_size(len(spec.hosts))
        return [Problem("network.subnet", f"subnet {network} is too small for an overlay over "
                        f"{len(spec.hosts)} hosts: Swarm needs {size} addresses of its own",
                        f"use a larger subnet, e.g. {network.supernet(new_prefix=24)}"
                        if network.prefixlen > 24 else "use a larger subnet")]
    reserved = ipaddress.IPv4Network(spec.network.endpoint_range)
    return [Problem(f"{m.path}.address" if m.path != "nodes" else "nodes",
                    f"{m.name}'s address {m.address} is in {reserved}, the range the overlay "
                    f"network keeps for Swarm's endpoints",
                    f"choose an address outside {reserved}" if m.path != "nodes"
                    else "use a larger subnet")
            for m in spec.members if m.address and ipaddress.IPv4Address(m.address) in reserved]
