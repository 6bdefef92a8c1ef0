"""What a schema cannot say: uniqueness, port clashes, address space, sanitizer combinations,
images and templates that exist.

Each check takes the expanded Spec and returns problems with the spec path and a fix. Whether
the templates render is checked where they are rendered (core.render), before any change.
"""

from __future__ import annotations

import ipaddress
import re
from collections import defaultdict
from collections.abc import Callable

from ..errors import Problem
from .faults import schedule_problems
from .hostchecks import check_hosts, check_overlay
from .limits import check_limits
from .model import Member, Spec
from .ports import ANY_ADDRESS, PortMapping
from .schema import definition


def semantic_problems(spec: Spec) -> list[Problem]:
    problems: list[Problem] = []
    for check in CHECKS:
        problems.extend(check(spec))
    return problems


def _unique(spec: Spec, attribute: str, label: str) -> list[Problem]:
    """Each repeated value, reported at every holder after the first, with its key."""
    members = spec.members if attribute in ("hostname", "container_name") else spec.nodes
    holders = [(getattr(m, attribute), m.name, f"{m.path}.{attribute}") for m in members]
    owners: dict[str, list[str]] = defaultdict(list)
    for value, name, _ in holders:
        owners[value].append(name)
    problems = []
    seen: set[str] = set()
    for value, _, path in holders:
        if value in seen:
            problems.append(Problem(path, f"{label} {value!r} is used by "
                                          f"{', '.join(owners[value])}",
                                    f"give each node its own {label}"))
        seen.add(value)
    return problems


def check_hostnames(spec: Spec) -> list[Problem]:
    """Every container's hostname is one Docker accepts, also one defaulted from a name."""
    pattern = definition("hostname")["pattern"]
    return [Problem(f"{m.path}.hostname", f"{m.hostname!r} (the default: the node's name) is "
                                           f"not a valid hostname", definition("hostname")["x-fix"]
                    + "; set hostname:")
            for m in spec.members if re.fullmatch(pattern, m.hostname) is None]


def check_unique_names(spec: Spec) -> list[Problem]:
    return (_unique(spec, "name", "name") + _unique(spec, "hostname", "hostname")
            + _unique(spec, "container_name", "container_name"))


def _looks_swapped(port: PortMapping, listening: set[int]) -> bool:
    return port.container_port not in listening and port.host_port in listening


def _intended_host_port(node: Member, port: PortMapping) -> int | None:
    """The host port the user most likely meant: the first number when the pair is swapped."""
    listening = set(node.settings.service_ports.values())
    return port.container_port if _looks_swapped(port, listening) else port.host_port


def _suggestions(spec: Spec) -> dict[tuple[str, int], str]:
    """A working mapping for every published port, keeping what the user meant where possible:
    the intended host port if no other entry means it too, else the next free one."""
    entries = [(node, i, port) for node in spec.nodes for i, port in enumerate(node.ports)]
    intended = [(_intended_host_port(node, port), port.host_ip) for node, _, port in entries]
    taken = {p for p, _ in intended if p}
    result: dict[tuple[str, int], str] = {}
    claimed: set[tuple[int | None, str, str]] = set()
    for (node, i, port), (wanted, _) in zip(entries, intended, strict=True):
        listening = set(node.settings.service_ports.values())
        target = port.container_port if port.container_port in listening else \
            node.settings.primary_port
        host_ip = "127.0.0.1" if port.host_ip == ANY_ADDRESS else port.host_ip
        host_port = wanted
        if host_port is None or (host_port, host_ip, node.host) in claimed:
            host_port = (wanted or 40400) + 1
            while host_port in taken:
                host_port += 1
            taken.add(host_port)
        claimed.add((host_port, host_ip, node.host))
        result[(node.name, i)] = f"{host_ip}:{host_port}:{target}"
    return result


def check_host_ports(spec: Spec) -> list[Problem]:
    """Two nodes (or one node twice) publishing one host port on one address of one Docker
    host (the same port on two Docker hosts is fine)."""
    problems = []
    published = [(node, i, port) for node in spec.nodes for i, port in enumerate(node.ports)]
    suggestions = _suggestions(spec)
    for a, (node_a, i_a, port_a) in enumerate(published):
        clashes = [(n, p) for n, _, p in published[:a]
                   if n.host == node_a.host and p.clashes_with(port_a)]
        if clashes:
            other, other_port = clashes[0]
            problems.append(Problem(
                _port_path(node_a, i_a),
                f"host port {port_a.host_ip}:{port_a.host_port} is already published by "
                f"{other.name} ({other_port}); {node_a.name} cannot bind it too",
                f"give each node its own host port (HOST_PORT:CONTAINER_PORT, host first), e.g. "
                f"{suggestions[(node_a.name, i_a)]}",
            ))
    return problems


def check_container_ports(spec: Spec) -> list[Problem]:
    """A published container port that the service does not listen on."""
    problems = []
    suggestions = _suggestions(spec)
    for node in spec.nodes:
        listening = set(node.settings.service_ports.values())
        for i, port in enumerate(node.ports):
            if port.container_port in listening:
                continue
            ports = ", ".join(map(str, sorted(listening)))
            hint = (" (the ports look swapped: compose short syntax is HOST_PORT:CONTAINER_PORT)"
                    if _looks_swapped(port, listening) else "")
            problems.append(Problem(
                _port_path(node, i),
                f"container port {port.container_port} is not a port the service listens on "
                f"({ports}){hint}",
                f"publish a service port, e.g. {suggestions[(node.name, i)]}",
            ))
    return problems


def _port_path(node: Member, i: int) -> str:
    """Where a node's port came from; a generated node (compact form) is named in the path."""
    return f"{node.path}.ports[{i}]" if node.path != "nodes" else f"nodes.publish ({node.name})"


def _large_enough(network: ipaddress.IPv4Network, needed: int) -> ipaddress.IPv4Network:
    """The smallest supernet of `network` with `needed` usable addresses."""
    prefix = network.prefixlen
    while prefix > 8 and 2 ** (32 - prefix) - 2 < needed:
        prefix -= 1
    return network.supernet(new_prefix=prefix)


def check_addresses(spec: Spec) -> list[Problem]:
    """Every address inside the subnet, unique, not the gateway; the subnet big enough."""
    network = ipaddress.IPv4Network(spec.network.subnet)
    usable = network.num_addresses - 2
    needed = len(spec.nodes) + 1 + (1 if spec.tester.enabled else 0)  # + gateway
    if usable < needed:
        return [Problem(
            "network.subnet",
            f"subnet {network} has {max(usable, 0)} usable addresses; the gateway, "
            f"{len(spec.nodes)} nodes and the tester need {needed}",
            f"use a larger subnet, e.g. {_large_enough(network, needed)}",
        )]
    problems = []
    owners: dict[str, list[str]] = defaultdict(list)
    for node in spec.nodes:
        owners[node.address].append(node.name)
        address = ipaddress.IPv4Address(node.address)
        if address not in network or address in (network.network_address,
                                                  network.broadcast_address):
            problems.append(Problem(f"{node.path}.address",
                                    f"{node.address} is not a host address in {network}",
                                    f"choose an address in {network}"))
        elif node.address == spec.network.gateway:
            problems.append(Problem(f"{node.path}.address",
                                    f"{node.address} is the network's gateway",
                                    "choose another address"))
    if spec.tester.enabled:
        owners[spec.tester.member.address].append("tester")
    for shared, names in owners.items():
        if len(names) > 1:
            last = next((n for n in spec.nodes if n.name == names[-1]), None)
            problems.append(Problem(f"{last.path}.address" if last else "tester",
                                    f"address {shared} is used by {', '.join(names)}",
                                    "give each node its own address or leave it out"))
    return problems


def check_sanitizers(spec: Spec) -> list[Problem]:
    chosen = set(spec.build.sanitizers)
    exclusive = chosen & {"msan", "asan"}
    if exclusive and len(chosen) > 1:
        return [Problem("build.sanitizers",
                        f"{' and '.join(sorted(chosen))} cannot be combined: "
                        f"{' and '.join(sorted(exclusive))} "
                        f"{'works' if len(exclusive) == 1 else 'each work'} only alone",
                        "choose one of race, msan, asan")]
    return []


def check_images(spec: Spec) -> list[Problem]:
    problems = []
    for key, image in spec.images.items():
        if not image.dockerfile.is_file():
            problems.append(Problem(f"images.{key}.dockerfile",
                                    f"{image.dockerfile} does not exist",
                                    "point it at a Dockerfile, relative to the spec file"))
        if not image.context.is_dir():
            problems.append(Problem(f"images.{key}.context", f"{image.context} is not a directory",
                                    "point it at the build context directory"))
        for j, required in enumerate(image.requires):
            if required not in spec.images:
                problems.append(Problem(f"images.{key}.requires[{j}]",
                                        f"{required!r} is not an entry of images",
                                        f"use one of {', '.join(spec.images)}"))
    if spec.build.programs and spec.build.image not in spec.images:
        problems.append(Problem("build.image", f"{spec.build.image!r} is not an entry of images",
                                f"use one of {', '.join(spec.images) or 'an images entry'}"))
    seen: set[str] = set()

    def cyclic(key: str, trail: tuple[str, ...]) -> bool:
        if key in trail:
            return True
        if key in seen or key not in spec.images:
            return False
        seen.add(key)
        return any(cyclic(r, (*trail, key)) for r in spec.images[key].requires)

    for key in spec.images:
        seen.clear()
        if cyclic(key, ()):
            problems.append(Problem(f"images.{key}.requires", "the images require each other",
                                    "remove the cycle"))
            break
    return problems


def check_templates(spec: Spec) -> list[Problem]:
    """Each template exists, as a regular file inside the spec's folder (templates render in
    a sandbox rooted there: core/sandbox.py)."""
    problems = []
    seen: set[tuple[str, str]] = set()
    for member in spec.members:
        for i, f in enumerate(member.settings.files):
            where = "defaults" if member.settings.files == spec.defaults.files else member.path
            if (str(f.template), where) in seen:
                continue
            seen.add((str(f.template), where))
            if not f.template.is_relative_to(spec.base_dir):
                problems.append(Problem(f"{where}.files[{i}].template",
                                        f"template {f.template} is outside the spec's folder "
                                        f"{spec.base_dir}",
                                        "keep templates (and what they include) in the spec's "
                                        "folder or below it"))
            elif not f.template.is_file():
                problems.append(Problem(f"{where}.files[{i}].template",
                                        f"template {f.template} does not exist",
                                        "point it at a file, relative to the spec file"))
    return problems


def check_faults(spec: Spec) -> list[Problem]:
    """Each scheduled fault names nodes of the cluster, in groups that make sense; faults
    need a cluster on one host (their helper joins each node's network namespace there)."""
    if spec.faults.schedule and spec.spans_hosts:
        return [Problem("faults.schedule", f"fault injection works on a cluster on one host; "
                        f"this one spans {len(spec.hosts)}",
                        "remove faults.schedule, or list one host")]
    return schedule_problems(spec.faults, [m.name for m in spec.members])


def check_bootstrap(spec: Spec) -> list[Problem]:
    if spec.bootstrap is None or spec.member(spec.bootstrap.container) is not None:
        return []
    names = ", ".join(m.name for m in spec.members)
    return [Problem("bootstrap.container", f"{spec.bootstrap.container!r} is not a container "
                                           f"of the cluster", f"use one of {names}")]


CHECKS: tuple[Callable[[Spec], list[Problem]], ...] = (
    check_hosts, check_hostnames, check_unique_names, check_host_ports, check_container_ports,
    check_addresses, check_sanitizers, check_images, check_templates, check_limits,
    check_bootstrap, check_overlay, check_faults,
)
