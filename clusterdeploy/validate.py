"""What a schema cannot say: uniqueness, port clashes, address space, sanitizer combinations.

Each check takes the expanded Spec and returns problems with the spec path and a fix.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Callable

from .errors import Problem
from .ports import ANY_ADDRESS, PortMapping
from .spec import Spec

SANITIZER_FLAGS = {"race": "-race", "msan": "-msan", "asan": "-asan"}


def semantic_problems(spec: Spec) -> list[Problem]:
    problems: list[Problem] = []
    for check in CHECKS:
        problems.extend(check(spec))
    return problems


def _unique(spec: Spec, attribute: str, label: str) -> list[Problem]:
    owners: dict[str, list[str]] = defaultdict(list)
    paths: dict[str, str] = {}
    for node in spec.nodes:
        value = getattr(node, attribute)
        owners[value].append(node.name)
        paths.setdefault(value, node.path)
    if spec.tester.enabled and attribute in ("hostname", "container_name"):
        owners[getattr(spec.tester, attribute)].append("tester")
        paths.setdefault(getattr(spec.tester, attribute), "tester")
    return [
        Problem(paths[value], f"{label} {value!r} is used by {', '.join(names)}",
                f"give each node its own {label}")
        for value, names in owners.items() if len(names) > 1
    ]


def check_unique_names(spec: Spec) -> list[Problem]:
    return (_unique(spec, "name", "name") + _unique(spec, "hostname", "hostname")
            + _unique(spec, "container_name", "container_name"))


def _suggestion(spec: Spec, node_index: int, port: PortMapping, taken: set[int]) -> str:
    """A mapping that would work: the swapped one if the entry looks swapped, else a free port."""
    node = spec.nodes[node_index]
    listening = set(node.settings.service_ports.values())
    host_ip = "127.0.0.1" if port.host_ip == ANY_ADDRESS else port.host_ip
    if port.container_port not in listening and port.host_port in listening:
        return f"{host_ip}:{port.container_port}:{port.host_port}"
    candidate = (port.host_port or 40400) + 1
    while candidate in taken:
        candidate += 1
    taken.add(candidate)
    target = port.container_port if port.container_port in listening else node.settings.primary_port
    return f"{host_ip}:{candidate}:{target}"


def _looks_swapped(port: PortMapping, listening: set[int]) -> bool:
    return port.container_port not in listening and port.host_port in listening


def check_host_ports(spec: Spec) -> list[Problem]:
    """Two nodes (or one node twice) publishing one host port on one host address."""
    problems = []
    published = [(node, i, port) for node in spec.nodes for i, port in enumerate(node.ports)]
    taken = {port.host_port for _, _, port in published if port.host_port}
    for a, (node_a, i_a, port_a) in enumerate(published):
        clashes = [(n, p) for n, _, p in published[:a] if p.clashes_with(port_a)]
        if clashes:
            other, other_port = clashes[0]
            problems.append(Problem(
                f"{node_a.path}.ports[{i_a}]",
                f"host port {port_a.host_ip}:{port_a.host_port} is already published by "
                f"{other.name} ({other_port}); {node_a.name} cannot bind it too",
                f"give each node its own host port (HOST_PORT:CONTAINER_PORT, host first), e.g. "
                f"{_suggestion(spec, node_a.index, port_a, taken)}",
            ))
    return problems


def check_container_ports(spec: Spec) -> list[Problem]:
    """A published container port that the service does not listen on."""
    problems = []
    for node in spec.nodes:
        listening = set(node.settings.service_ports.values())
        for i, port in enumerate(node.ports):
            if port.container_port in listening:
                continue
            ports = ", ".join(map(str, sorted(listening)))
            hint = (" (the ports look swapped: compose short syntax is HOST_PORT:CONTAINER_PORT)"
                    if _looks_swapped(port, listening) else "")
            problems.append(Problem(
                f"{node.path}.ports[{i}]",
                f"container port {port.container_port} is not a port the service listens on "
                f"({ports}){hint}",
                f"publish a service port, e.g. {_suggestion(spec, node.index, port, set())}",
            ))
    return problems


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
        owners[spec.tester.address].append("tester")
    for address, names in owners.items():
        if len(names) > 1:
            node = next((n for n in spec.nodes if n.name == names[-1]), None)
            problems.append(Problem(f"{node.path}.address" if node else "tester",
                                    f"address {address} is used by {', '.join(names)}",
                                    "give each node its own address or leave it out"))
    return problems


def check_sanitizers(spec: Spec) -> list[Problem]:
    chosen = set(spec.build.sanitizers)
    exclusive = chosen & {"msan", "asan"}
    if exclusive and len(chosen) > 1:
        return [Problem("build.sanitizers",
                        f"{' and '.join(sorted(chosen))} cannot be combined: "
                        f"{', '.join(sorted(exclusive))} works only alone",
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
    problems = []
    seen: set[tuple[str, str]] = set()
    for node in spec.nodes:
        for i, f in enumerate(node.settings.files):
            if (str(f.template), node.path) in seen or f.template.is_file():
                continue
            seen.add((str(f.template), node.path))
            where = "defaults" if node.settings.files == spec.defaults.files else node.path
            problems.append(Problem(f"{where}.files[{i}].template",
                                    f"template {f.template} does not exist",
                                    "point it at a file, relative to the spec file"))
    return problems


def check_overrides(spec: Spec) -> list[Problem]:
    nodes = spec.raw["nodes"]
    if not isinstance(nodes, dict):
        return []
    names = {n.name for n in spec.nodes}
    return [
        Problem(f"nodes.overrides.{name}", f"there is no node {name!r}",
                f"use a generated name, {spec.nodes[0].name}..{spec.nodes[-1].name}")
        for name in nodes.get("overrides", {}) if name not in names
    ]


CHECKS: tuple[Callable[[Spec], list[Problem]], ...] = (
    check_unique_names, check_host_ports, check_container_ports, check_addresses,
    check_sanitizers, check_images, check_templates, check_overrides,
)
