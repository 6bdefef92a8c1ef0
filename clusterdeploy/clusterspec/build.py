"""A schema-valid document turned into the Spec: defaults filled, nodes expanded, paths resolved.

Problems only conversion can see (a subnet that does not parse, a port entry, a health-check
port name) are returned with their spec path; cross-field checks live in checks.py.
"""

from __future__ import annotations

import dataclasses
import hashlib
import ipaddress
from pathlib import Path
from typing import Any

from ..errors import Problem
from .faults import faults_spec
from .model import Bootstrap, GoBuild, Host, ImageDef, Network, Spec, SSHAccess
from .nodes import nodes, tester
from .overlay import endpoint_range
from .placement import place
from .schema import load_schema
from .settings import (
    container_settings,
    defaults_of,
    settings_defaults,
    value_problems,
    with_scaled_interval,
)


def default_subnet(cluster: str) -> str:
    """A /24 in 172.28.0.0/16 derived from the cluster name, stable across runs."""
    third = hashlib.sha256(cluster.encode()).digest()[0]
    return f"172.28.{third}.0/24"


def _host(raw: dict[str, Any], base: Path) -> Host:
    ssh = raw.get("ssh")

    def path(value: str | None) -> Path | None:
        return (base / Path(value).expanduser()).resolve() if value else None

    return Host(
        name=raw["name"],
        ssh=SSHAccess(ssh["address"], ssh.get("user", "root"), int(ssh.get("port", 22)),
                      path(ssh.get("key")), path(ssh.get("known_hosts"))) if ssh else None,
        images=raw.get("images", "ship"),
        swarm_address=raw.get("swarm_address"),
    )


LARGEST_SUBNET = 16  # a /16 holds 65534 addresses: far more than a test cluster uses


def _network(raw: dict[str, Any], cluster: str) -> tuple[ipaddress.IPv4Network, list[Problem]]:
    subnet = raw.get("subnet")
    try:
        network = ipaddress.IPv4Network(subnet or default_subnet(cluster))
    except ValueError as exc:
        return ipaddress.IPv4Network(default_subnet(cluster)), [Problem(
            "network.subnet", f"{subnet!r} is not a valid subnet: {exc}",
            "write a network address in CIDR form, e.g. 172.28.0.0/24")]
    if network.prefixlen < LARGEST_SUBNET:
        return ipaddress.IPv4Network(default_subnet(cluster)), [Problem(
            "network.subnet", f"{network} is larger than a cluster can use",
            f"use a /{LARGEST_SUBNET} or smaller, e.g. {network.network_address}/24")]
    return network, []


def _image(key: str, raw: dict[str, Any], base: Path) -> ImageDef:
    return ImageDef(
        key=key,
        tag=raw["tag"],
        dockerfile=(base / raw["dockerfile"]).resolve(),
        context=(base / raw.get("context", ".")).resolve(),
        args={k: str(v) for k, v in raw.get("args", {}).items()},
        requires=tuple(raw.get("requires", [])),
        network=raw.get("network", "default"),
    )


def build_spec(file: Path, display: str, document: dict[str, Any]) -> tuple[Spec, list[Problem]]:
    """The Spec of a schema-valid document, and what conversion found wrong."""
    base = file.parent
    doc = defaults_of(load_schema(), document)
    cluster = doc["name"]
    defaults_raw = with_scaled_interval(settings_defaults(doc["defaults"]), doc["nodes"])
    defaults, problems = container_settings(defaults_raw, base, "defaults")
    problems += value_problems(doc["defaults"], "defaults")
    network, found = _network(doc["network"], cluster)
    problems += found
    members, found = nodes(doc, defaults_raw, base, network)
    problems += found
    the_tester, found = tester(doc, defaults_raw, base, network)
    problems += found
    hosts = tuple(_host(h, base) for h in doc["hosts"])
    members, placed_tester, found = place(members, the_tester.member, hosts)
    problems += found
    the_tester = dataclasses.replace(the_tester, member=placed_tester)
    build = doc["build"]
    faults, found = faults_spec(doc["faults"])
    problems += found
    spec = Spec(
        file=file,
        display=display,
        name=cluster,
        hosts=hosts,
        network=Network(doc["network"]["name"], str(network),
                        endpoint_range(str(network), len(hosts)) if len(hosts) > 1 else None),
        images={key: _image(key, raw, base) for key, raw in doc["images"].items()},
        build=GoBuild(
            image=build["image"],
            programs=tuple((p["package"], p["output"]) for p in build["programs"]),
            sanitizers=tuple(build["sanitizers"]),
        ),
        defaults=defaults,
        nodes=tuple(members),
        tester=the_tester,
        logs_dir=(base / doc["logs"]["dir"]).resolve(),
        variables=dict(doc["vars"]),
        bootstrap=Bootstrap(container=doc["bootstrap"].get("container", "tester"),
                            command=tuple(doc["bootstrap"]["command"]),
                            when=doc["bootstrap"].get("when", "created"))
        if "bootstrap" in doc else None,
        host_names=bool(doc["host_names"]),
        faults=faults,
    )
    return spec, problems
