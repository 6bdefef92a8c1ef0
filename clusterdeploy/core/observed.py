"""What exists on a Docker host, as a plain value: the input of planning next to the desired
state. How it is read (one batched shell command) lives in docker/observe.py; a host that
cannot be read is an error there, never a value here."""

from __future__ import annotations

from dataclasses import dataclass, field

from . import labels


@dataclass(frozen=True)
class Attachment:
    """How a container is wired, as Docker reports it: what drifts when someone runs
    `docker network disconnect` or recreates a container by hand."""

    hostname: str
    networks: dict[str, tuple[str, tuple[str, ...]]]  # network -> (static address, aliases)
    ports: frozenset[str]  # `HOST_IP:HOST_PORT:CONTAINER_PORT/PROTO`, as PortMapping prints
    mounts: frozenset[str]  # `SOURCE:DESTINATION:ro|rw` of bind mounts
    oom_killed: bool = False  # its last run ended by the kernel's OOM killer


@dataclass(frozen=True)
class ObservedContainer:
    id: str
    name: str
    status: str  # created, running, exited, ...
    exit_code: int
    health: str | None  # starting, healthy, unhealthy; None without a health check (or stopped)
    labels: dict[str, str]
    networks: tuple[str, ...]
    attachment: Attachment | None = None  # None: not observed (a captured `docker ps` alone)

    @property
    def running(self) -> bool:
        return self.status == "running"

    @property
    def oom_killed(self) -> bool:
        return bool(self.attachment and self.attachment.oom_killed)

    @property
    def member(self) -> str:
        return self.labels.get(labels.MEMBER, "")

    @property
    def config_hash(self) -> str:
        return self.labels.get(labels.CONFIG_HASH, "")


@dataclass(frozen=True)
class ObservedNetwork:
    id: str
    name: str
    labels: dict[str, str]
    subnets: tuple[str, ...]
    containers: dict[str, str]  # container ID -> container name
    driver: str = "bridge"
    scope: str = "local"  # "swarm" for an overlay: only a swarm manager may remove it

    @property
    def cluster(self) -> str:
        return self.labels.get(labels.CLUSTER, "")

    @property
    def config_hash(self) -> str:
        return self.labels.get(labels.CONFIG_HASH, "")


@dataclass(frozen=True)
class ObservedVolume:
    name: str
    labels: dict[str, str]

    @property
    def cluster(self) -> str:
        return self.labels.get(labels.CLUSTER, "")

    @property
    def keep(self) -> bool:
        return self.labels.get(labels.KEEP, "true") != "false"


@dataclass(frozen=True)
class ObservedFault:
    """A fault journaled on the host (clusterdeploy/faults/journal.py writes the journal): what
    planning needs to heal it. `record` is the entry as written, for the faults stage."""

    id: str
    fault: str  # its kind; "unreadable" when the entry does not parse
    targets: tuple[str, ...]  # node names
    since: str  # RFC 3339
    containers: tuple[str, ...]  # the containers it acts on
    helper: str  # the image that applied it (and heals it)
    record: str

    def __str__(self) -> str:
        since = f"{self.since[:19]}Z" if len(self.since) >= 19 else "?"
        return f"{self.fault} {self.id} since {since}"


@dataclass(frozen=True)
class ObservedState:
    names: dict[str, str] = field(default_factory=dict)  # every container name -> its cluster label
    containers: tuple[ObservedContainer, ...] = ()  # the cluster's containers
    networks: tuple[ObservedNetwork, ...] = ()
    images: dict[str, str] = field(default_factory=dict)  # repo:tag -> image ID
    own_images: frozenset[str] = frozenset()  # IDs of the images clusterdeploy built
    # True: `images` holds every tagged image of the host; False: only the references the
    # observation asked for (and the other tags of those images), so a missing ref is unknown.
    images_listed: bool = True
    files: dict[str, str] = field(default_factory=dict)  # host path -> sha256
    files_root_exists: bool = False
    volumes: dict[str, ObservedVolume] = field(default_factory=dict)  # every volume by name
    hosts_block: str | None = None  # the cluster's block in /etc/hosts, when there is one
    faults: tuple[ObservedFault, ...] = ()  # the fault journal, oldest first
    faults_dir_exists: bool = False

    def container(self, name: str) -> ObservedContainer | None:
        return next((c for c in self.containers if c.name == name), None)

    def network(self, name: str) -> ObservedNetwork | None:
        return next((n for n in self.networks if n.name == name), None)

    def may_tag(self, ref: str) -> bool:
        """Whether clusterdeploy may point `ref` at its image: the tag is free, or names an
        image clusterdeploy built (never a tag of someone else's image)."""
        return ref not in self.images or self.images[ref] in self.own_images
