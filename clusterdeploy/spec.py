"""The cluster spec: YAML in, immutable dataclasses out, every default filled in.

`load_spec` is the only place that reads the YAML file. It reports every problem at once
(schema first, then what a schema cannot say, see validate.py) and raises SpecError; nothing
downstream re-reads or re-validates.
"""

from __future__ import annotations

import copy
import hashlib
import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .durations import parse_duration
from .errors import Problem, SpecError
from .ports import PortMapping, PortSyntaxError, parse_port
from .schema import format_path, load_schema, schema_defaults, schema_problems

DEFAULT_SPEC = "cluster.yml"
SPEC_ENV = "CLUSTER_SPEC"


@dataclass(frozen=True)
class HealthCheck:
    test: tuple[str, ...]
    interval: float
    timeout: float
    retries: int
    start_period: float


@dataclass(frozen=True)
class FileTemplate:
    """A per-node file: `template` (absolute path on this machine) rendered to `path`."""

    template: Path
    path: str
    mode: int


@dataclass(frozen=True)
class ContainerSettings:
    """What every container of the cluster is made of (the seed's `x-service-base`)."""

    image: str
    user: str
    environment: dict[str, str]
    command: tuple[str, ...]
    init: bool
    stop_grace_period: float
    privileged: bool
    cap_add: tuple[str, ...]
    cap_drop: tuple[str, ...]
    service_ports: dict[str, int]
    healthcheck: HealthCheck | None
    ready_timeout: float
    files_dir: str
    files: tuple[FileTemplate, ...]

    @property
    def primary_port(self) -> int:
        return next(iter(self.service_ports.values()))


@dataclass(frozen=True)
class Node:
    name: str
    hostname: str
    container_name: str
    address: str
    ports: tuple[PortMapping, ...]
    settings: ContainerSettings
    index: int
    path: str  # where in the spec it came from, for messages


@dataclass(frozen=True)
class Tester:
    enabled: bool
    container_name: str
    hostname: str
    address: str
    command: tuple[str, ...]
    settings: ContainerSettings


@dataclass(frozen=True)
class ImageDef:
    key: str
    tag: str
    dockerfile: Path
    context: Path
    args: dict[str, str]
    requires: tuple[str, ...]


@dataclass(frozen=True)
class GoBuild:
    image: str
    programs: tuple[tuple[str, str], ...]  # (package, output)
    sanitizers: tuple[str, ...]


@dataclass(frozen=True)
class SSHAccess:
    address: str
    user: str
    port: int
    key: Path | None
    known_hosts: Path | None


@dataclass(frozen=True)
class Host:
    """A Docker host: the local engine (`ssh` is None) or one reached over SSH."""

    name: str
    ssh: SSHAccess | None
    images: str  # "ship" or "build"

    @property
    def is_local(self) -> bool:
        return self.ssh is None


@dataclass(frozen=True)
class Network:
    name: str
    subnet: str
    subnet_given: bool

    @property
    def gateway(self) -> str:
        return str(ipaddress.IPv4Network(self.subnet)[1])


@dataclass(frozen=True)
class Spec:
    file: Path
    display: str  # the file as the user named it, for messages
    name: str
    hosts: tuple[Host, ...]
    network: Network
    images: dict[str, ImageDef]
    build: GoBuild
    defaults: ContainerSettings
    nodes: tuple[Node, ...]
    tester: Tester
    logs_dir: Path
    variables: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def base_dir(self) -> Path:
        return self.file.parent

    def node(self, name: str) -> Node:
        return next(n for n in self.nodes if n.name == name)


def spec_path(path: str | os.PathLike[str] | None = None) -> str:
    """The spec file to use: the argument, else $CLUSTER_SPEC, else cluster.yml."""
    return os.fspath(path) if path else os.environ.get(SPEC_ENV) or DEFAULT_SPEC


def load_spec(path: str | os.PathLike[str] | None = None) -> Spec:
    """Read, validate and expand a spec file; raise SpecError with every problem."""
    from .validate import semantic_problems  # validate imports Spec; avoid the cycle

    display = spec_path(path)
    document = _read_yaml(display)
    problems = schema_problems(document)
    if problems:
        raise SpecError([Problem(p.path, p.message, p.fix, display) for p in problems])
    spec, build_problems = _build(Path(display).resolve(), display, document)
    problems = build_problems + (semantic_problems(spec) if spec else [])
    if problems:
        raise SpecError([Problem(p.path, p.message, p.fix, display) for p in problems])
    assert spec is not None
    return spec


def _read_yaml(display: str) -> Any:
    try:
        text = Path(display).read_text()
    except FileNotFoundError:
        raise SpecError([Problem("", "no such file", f"create it or set {SPEC_ENV}",
                                 display)]) from None
    except OSError as exc:
        raise SpecError([Problem("", f"cannot read: {exc.strerror}", "check the path",
                                 display)]) from None
    try:
        document = _parse_yaml(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "YAML"
        raise SpecError([Problem(where, f"YAML syntax error: {exc.problem}", "fix the YAML",
                                 display)]) from None
    except yaml.YAMLError as exc:
        raise SpecError([Problem("", f"YAML error: {exc}", "fix the YAML", display)]) from None
    if not isinstance(document, dict):
        raise SpecError([Problem("", "the spec must be a YAML mapping",
                                 "start with `name: <cluster>` and `nodes:`", display)])
    return document


def _parse_yaml(text: str) -> Any:
    """libyaml's loader when PyYAML has it (15x faster on a 100-node spec); on a syntax error
    the pure-Python loader parses again, for its clearer message."""
    fast = getattr(yaml, "CSafeLoader", None)
    if fast is not None:
        try:
            return yaml.load(text, Loader=fast)
        except yaml.YAMLError:
            pass
    return yaml.load(text, Loader=yaml.SafeLoader)


def default_subnet(cluster: str) -> str:
    """A /24 in 172.28.0.0/16 derived from the cluster name, stable across runs."""
    third = hashlib.sha256(cluster.encode()).digest()[0]
    return f"172.28.{third}.0/24"


def _with_defaults(schema: dict[str, Any], value: dict[str, Any]) -> dict[str, Any]:
    """Fill schema defaults into an object, recursing into structured sub-objects."""
    result = copy.deepcopy(value)
    for key, sub in schema.get("properties", {}).items():
        if key not in result and "default" in sub:
            result[key] = copy.deepcopy(sub["default"])
        if key in result and isinstance(result[key], dict) and "properties" in sub:
            merged = _with_defaults(sub, result[key])
            if isinstance(sub.get("default"), dict):
                merged = {**sub["default"], **merged}
            result[key] = merged
    return result


def _health_test(health: dict[str, Any], service_ports: dict[str, int]) -> tuple[str, ...]:
    """`test` as given, or the `http` shortcut turned into a curl check."""
    if "http" not in health:
        return tuple(health["test"])
    port = health.get("port", next(iter(service_ports.values())))
    number = service_ports.get(port, port) if isinstance(port, str) else port
    return ("CMD", "curl", "-fsS", "-o", "/dev/null", f"http://127.0.0.1:{number}{health['http']}")


def _settings(raw: dict[str, Any], base: Path) -> ContainerSettings:
    health = raw.get("healthcheck")
    return ContainerSettings(
        image=raw["image"],
        user=str(raw["user"]),
        environment={k: _env_value(v) for k, v in raw["environment"].items()},
        command=tuple(raw["command"]),
        init=bool(raw["init"]),
        stop_grace_period=parse_duration(raw["stop_grace_period"]),
        privileged=bool(raw["privileged"]),
        cap_add=tuple(raw["cap_add"]),
        cap_drop=tuple(raw["cap_drop"]),
        service_ports=dict(raw["service_ports"]),
        healthcheck=HealthCheck(
            test=_health_test(health, dict(raw["service_ports"])),
            interval=parse_duration(health["interval"]),
            timeout=parse_duration(health["timeout"]),
            retries=int(health["retries"]),
            start_period=parse_duration(health["start_period"]),
        ) if health else None,
        ready_timeout=parse_duration(raw["ready_timeout"]),
        files_dir=raw["files_dir"],
        files=tuple(
            FileTemplate((base / f["template"]).resolve(), f["path"], int(f.get("mode", "0644"), 8))
            for f in raw["files"]
        ),
    )


def _host(raw: dict[str, Any], base: Path) -> Host:
    ssh = raw.get("ssh")

    def path(value: str | None) -> Path | None:
        return (base / Path(value).expanduser()).resolve() if value else None

    return Host(
        name=raw["name"],
        ssh=SSHAccess(ssh["address"], ssh.get("user", "root"), int(ssh.get("port", 22)),
                      path(ssh.get("key")), path(ssh.get("known_hosts"))) if ssh else None,
        images=raw.get("images", "ship"),
    )


def _env_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _merge(defaults: dict[str, Any], own: dict[str, Any]) -> dict[str, Any]:
    """A node's settings: its own keys win; environment is merged key by key, and so is the
    health check (where the node's `test` or `http` replaces the inherited one of either)."""
    merged = {**defaults, **own}
    merged["environment"] = {**defaults["environment"], **own.get("environment", {})}
    inherited, health = defaults.get("healthcheck"), own.get("healthcheck")
    if inherited and health:
        base = dict(inherited)
        if "test" in health or "http" in health:
            for key in ("test", "http", "port"):
                base.pop(key, None)
        merged["healthcheck"] = {**base, **health}
    return merged


_NODE_ONLY = ("name", "hostname", "container_name", "address", "ports")


def _expand_nodes(document: dict[str, Any], cluster: str) -> list[tuple[str, dict[str, Any]]]:
    """The nodes as (spec path, raw node) pairs, the compact form expanded."""
    nodes = document["nodes"]
    if isinstance(nodes, list):
        return [(format_path(["nodes", i]), n) for i, n in enumerate(nodes)]
    expanded = []
    overrides = nodes.get("overrides", {})
    publish = nodes.get("publish")
    for i in range(1, nodes["count"] + 1):
        name = nodes.get("name", "node{i}").replace("{i}", str(i))
        raw: dict[str, Any] = {"name": name}
        for key in ("hostname", "container_name"):
            if key in nodes:
                raw[key] = nodes[key].replace("{i}", str(i))
        if publish:
            raw["ports"] = [f"{publish.get('host_ip', '127.0.0.1')}:{publish['base'] + i}:"]
        raw.update(overrides.get(name, {}))
        path = format_path(["nodes", "overrides", name]) if name in overrides else "nodes"
        expanded.append((path, raw))
    return expanded


def _build(file: Path, display: str, document: dict[str, Any]) -> tuple[Spec | None, list[Problem]]:
    schema = load_schema()
    base = file.parent
    doc = _with_defaults(schema, document)
    problems: list[Problem] = []
    cluster = doc["name"]

    defaults_raw = _with_defaults(schema["properties"]["defaults"], doc["defaults"])
    defaults = _settings(defaults_raw, base)

    net_raw = doc["network"]
    subnet = net_raw.get("subnet")
    try:
        network_obj = ipaddress.IPv4Network(subnet or default_subnet(cluster))
    except ValueError as exc:
        problems.append(Problem("network.subnet", f"{subnet!r} is not a valid subnet: {exc}",
                                "write a network address in CIDR form, e.g. 172.28.0.0/24"))
        network_obj = ipaddress.IPv4Network(default_subnet(cluster))
    network = Network(net_raw["name"], str(network_obj), subnet is not None)
    usable = list(network_obj.hosts())

    nodes: list[Node] = []
    for index, (path, raw) in enumerate(_expand_nodes(doc, cluster)):
        settings = _settings(_merge(defaults_raw, {k: v for k, v in raw.items()
                                                   if k not in _NODE_ONLY}), base)
        ports = []
        for j, entry in enumerate(raw.get("ports", [])):
            if isinstance(entry, str) and entry.endswith(":"):  # compact publish: add service port
                entry = f"{entry}{settings.primary_port}"
            try:
                ports.append(parse_port(entry))
            except PortSyntaxError as exc:
                where = (f"{path}.ports[{j}]" if path != "nodes"
                         else f"nodes.publish ({raw['name']})")
                problems.append(Problem(where, f"{raw['name']}: {exc}",
                                        "use [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/tcp|udp]"))
        # Offset 0 of the usable hosts is the gateway; nodes follow in spec order.
        address = raw.get("address") or (str(usable[index + 1]) if index + 1 < len(usable) else "")
        nodes.append(Node(
            name=raw["name"],
            hostname=raw.get("hostname", raw["name"]),
            container_name=raw.get("container_name", f"{cluster}_{raw['name']}"),
            address=address,
            ports=tuple(ports),
            settings=settings,
            index=index,
            path=path,
        ))

    tester_raw = doc["tester"]
    tester_settings = _settings(_merge(defaults_raw, {
        "image": tester_raw.get("image", defaults.image),
        "environment": tester_raw.get("environment", {}),
        # The tester idles (the default setup.sh knows its role); the suite runs with
        # `docker exec`.
        "command": tester_raw.get("container_command", defaults_raw["command"]),
        "healthcheck": None,
    }), base)
    tester = Tester(
        enabled=tester_raw.get("enabled", True),
        container_name=tester_raw.get("container_name", f"{cluster}_tester"),
        hostname=tester_raw.get("hostname", "tester"),
        address=str(usable[-1]) if len(usable) > 1 else "",
        command=tuple(tester_raw["command"]),
        settings=tester_settings,
    )

    images = {
        key: ImageDef(
            key=key,
            tag=img["tag"],
            dockerfile=(base / img["dockerfile"]).resolve(),
            context=(base / img.get("context", ".")).resolve(),
            args={k: str(v) for k, v in img.get("args", {}).items()},
            requires=tuple(img.get("requires", [])),
        )
        for key, img in doc["images"].items()
    }
    build_raw = _with_defaults(schema["properties"]["build"], doc["build"])
    build = GoBuild(
        image=build_raw["image"],
        programs=tuple((p["package"], p["output"]) for p in build_raw["programs"]),
        sanitizers=tuple(build_raw["sanitizers"]),
    )
    spec = Spec(
        file=file,
        display=display,
        name=cluster,
        hosts=tuple(_host(h, base) for h in doc["hosts"]),
        network=network,
        images=images,
        build=build,
        defaults=defaults,
        nodes=tuple(nodes),
        tester=tester,
        logs_dir=(base / doc["logs"]["dir"]).resolve(),
        variables=dict(doc["vars"]),
        raw=doc,
    )
    return spec, problems


__all__ = [
    "ContainerSettings", "FileTemplate", "GoBuild", "HealthCheck", "Host", "ImageDef", "Network",
    "Node", "SSHAccess",
    "Spec", "Tester", "default_subnet", "load_spec", "schema_defaults", "spec_path",
]
