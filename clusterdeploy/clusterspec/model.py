"""The cluster spec as immutable values, every default filled in.

Container settings are not listed here one by one: `ContainerSettings` is the normalized mapping
of the schema's `containerSettings` (durations in seconds, lists as tuples), so a new container
option is declared in the schema and read where it is used, never copied through this module.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .faults import FaultsSpec
from .ports import PortMapping

NODE = "node"
TESTER = "tester"
SANITIZER_FLAGS = {"race": "-race", "msan": "-msan", "asan": "-asan"}


@dataclass(frozen=True)
class HealthCheck:
    test: tuple[str, ...]
    interval: float
    timeout: float
    retries: int
    start_period: float


@dataclass(frozen=True)
class FileTemplate:
    """A per-container file: `template` (absolute path on this machine) rendered to `path`."""

    template: Path
    path: str
    mode: int


class ContainerSettings(Mapping[str, Any]):
    """One container's settings: every key of the schema's `containerSettings`, normalized.

    Read-only. The properties name the settings the pipeline itself reasons about (images,
    rendering, health, shutdown); every other setting reaches the desired container by name.
    """

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, Any]) -> None:
        self._values = dict(values)

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ContainerSettings) and self._values == other._values

    def __hash__(self) -> int:
        return hash(tuple(sorted(self._values)))

    def __repr__(self) -> str:
        return f"ContainerSettings({self._values!r})"

    @property
    def image(self) -> str:
        return str(self._values["image"])

    @property
    def environment(self) -> dict[str, str]:
        return dict(self._values["environment"])

    @property
    def service_ports(self) -> dict[str, int]:
        return dict(self._values["service_ports"])

    @property
    def primary_port(self) -> int:
        return int(next(iter(self._values["service_ports"].values())))

    @property
    def healthcheck(self) -> HealthCheck | None:
        check: HealthCheck | None = self._values.get("healthcheck")
        return check

    @property
    def files(self) -> tuple[FileTemplate, ...]:
        return tuple(self._values["files"])

    @property
    def files_dir(self) -> str:
        return str(self._values["files_dir"])

    @property
    def stop_grace_period(self) -> float:
        return float(self._values["stop_grace_period"])

    @property
    def ready_timeout(self) -> float:
        return float(self._values["ready_timeout"])


@dataclass(frozen=True)
class Member:
    """A container of the cluster: a node, or the tester (`role`)."""

    name: str  # the node's name, or "tester"
    role: str  # NODE or TESTER
    hostname: str
    container_name: str
    address: str
    ports: tuple[PortMapping, ...]
    settings: ContainerSettings
    index: int  # 1-based position among the nodes; 0 for the tester
    path: str  # where in the spec it came from, for messages
    host: str = ""  # the spec host it runs on (clusterspec.placement decides)
    host_chosen: bool = False  # the spec names the host (else placement spread it)

    @property
    def is_node(self) -> bool:
        return self.role == NODE


@dataclass(frozen=True)
class Tester:
    enabled: bool
    suite: tuple[str, ...]  # the test suite, run with `docker exec`
    member: Member

    @property
    def container_name(self) -> str:
        return self.member.container_name


@dataclass(frozen=True)
class ImageDef:
    key: str
    tag: str
    dockerfile: Path
    context: Path
    args: dict[str, str]
    requires: tuple[str, ...]
    network: str = "default"


@dataclass(frozen=True)
class GoBuild:
    image: str
    programs: tuple[tuple[str, str], ...]  # (package, output)
    sanitizers: tuple[str, ...]

    @property
    def flags(self) -> tuple[str, ...]:
        return tuple(SANITIZER_FLAGS[s] for s in self.sanitizers)


@dataclass(frozen=True)
class SSHAccess:
    address: str
    user: str
    port: int
    key: Path | None
    known_hosts: Path | None


@dataclass(frozen=True)
class Host:
    """A Docker host: the local engine (`ssh` is None) or one reached over SSH.

    `is_local` is the one place that decides how a host is reached.
    """

    name: str
    ssh: SSHAccess | None
    images: str  # "ship" or "build": how images reach a remote host
    swarm_address: str | None = None  # what the other hosts reach its swarm on

    @property
    def is_local(self) -> bool:
        return self.ssh is None

    @property
    def ships_images(self) -> bool:
        """Images are built on this machine and sent to the host (`images: ship`)."""
        return not self.is_local and self.images == "ship"


@dataclass(frozen=True)
class Network:
    name: str
    subnet: str
    endpoint_range: str | None = None  # over several hosts: where Swarm puts its own endpoints

    @property
    def gateway(self) -> str:
        return str(ipaddress.IPv4Network(self.subnet)[1])

    @property
    def driver(self) -> str:
        """A bridge on one host; a Swarm overlay (with an endpoint range) over several."""
        return "overlay" if self.endpoint_range else "bridge"


@dataclass(frozen=True)
class Bootstrap:
    """The command that makes healthy nodes a cluster, and when it runs."""

    container: str  # a node's name, or "tester"
    command: tuple[str, ...]  # each argument a template
    when: str  # created | recreated | always


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
    nodes: tuple[Member, ...]
    tester: Tester
    logs_dir: Path
    variables: dict[str, Any]
    bootstrap: Bootstrap | None = None
    host_names: bool = False
    faults: FaultsSpec = field(default_factory=FaultsSpec)

    @property
    def base_dir(self) -> Path:
        return self.file.parent

    def member(self, name: str) -> Member | None:
        """A node by name, or the tester as "tester"."""
        return next((m for m in self.members if m.name == name), None)

    @property
    def spans_hosts(self) -> bool:
        """Several Docker hosts: an overlay network on a swarm instead of a bridge."""
        return len(self.hosts) > 1

    def host(self, name: str) -> Host:
        return next(h for h in self.hosts if h.name == name)

    def members_on(self, host: str) -> tuple[Member, ...]:
        """The containers that run on one host, in spec order."""
        return tuple(m for m in self.members if m.host == host)

    @property
    def members(self) -> tuple[Member, ...]:
        """Every container of the cluster: the nodes, then the tester when enabled."""
        return (*self.nodes, self.tester.member) if self.tester.enabled else self.nodes
