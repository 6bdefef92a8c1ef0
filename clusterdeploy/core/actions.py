"""The plan's actions: each carries what it acts on, so executing one needs no lookup.

`str(action)` is the line a person reads (`--dry`, logs, golden tests): `<kind> <target>:
<cause>`. Every kind is executed by exactly one apply phase (deploy/phases.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

from .desired import DesiredBootstrap, DesiredContainer, DesiredNetwork, DesiredVolume
from .images import DesiredImage
from .observed import ObservedContainer, ObservedFault, ObservedNetwork, ObservedVolume
from .render import RenderedFile


class Kind(StrEnum):
    INIT_SWARM = "init-swarm"  # swarm actions: core/swarm.py
    JOIN_SWARM = "join-swarm"
    LEAVE_SWARM = "leave-swarm"
    LEAVE_SWARM_MANAGER = "leave-swarm-manager"
    BUILD = "build"
    TAG = "tag"
    HEAL_FAULTS = "heal-faults"
    COLLECT_LOGS = "collect-logs"
    STOP = "stop"
    KILL = "kill"
    REMOVE = "remove"
    REMOVE_NETWORK = "remove-network"
    CREATE_NETWORK = "create-network"
    CREATE_VOLUME = "create-volume"
    REMOVE_VOLUME = "remove-volume"
    WRITE_FILE = "write-file"
    REMOVE_FILES = "remove-files"
    CREATE = "create"
    RECREATE = "recreate"
    START = "start"
    WAIT = "wait"
    BOOTSTRAP = "bootstrap"
    WRITE_HOSTS = "write-hosts"
    REMOVE_HOSTS = "remove-hosts"


@dataclass(frozen=True)
class Action:
    kind: ClassVar[Kind]
    cause: str

    @property
    def target(self) -> str:
        raise NotImplementedError

    def __str__(self) -> str:
        return f"{self.kind} {self.target}: {self.cause}"


@dataclass(frozen=True)
class Build(Action):
    """Make an image whose content hash the host lacks (built, shipped or built there)."""

    kind = Kind.BUILD
    image: DesiredImage
    requires: tuple[DesiredImage, ...] = ()  # what it is built from, in build order
    tag_latest: bool = True  # `<tag>:latest` is free or ours

    @property
    def target(self) -> str:
        return self.image.ref


@dataclass(frozen=True)
class Tag(Action):
    """Point `<tag>:latest` at the image the spec wants."""

    kind = Kind.TAG
    image: DesiredImage

    @property
    def target(self) -> str:
        return self.image.latest


@dataclass(frozen=True)
class HealFaults(Action):
    """Heal what the fault journal holds, before any container changes: sweep the namespaces
    of the running containers it names (clusterdeploy's chain and qdiscs), unpause paused
    containers, end the entries (stray fault rules are drift)."""

    kind = Kind.HEAL_FAULTS
    cluster: str
    faults: tuple[ObservedFault, ...]
    sweep: tuple[str, ...]  # running (or paused) containers whose namespace is cleaned
    unpause: tuple[str, ...]
    helper: str  # the image that cleans a namespace
    directory: str  # the journal

    @property
    def target(self) -> str:
        return self.cluster


@dataclass(frozen=True)
class CollectLogs(Action):
    """Copy containers' logs to this machine before they are removed."""

    kind = Kind.COLLECT_LOGS
    containers: tuple[ObservedContainer, ...]
    label: str  # names the run folder: "teardown", "deploy"
    faults_dir: str = ""  # its nemesis log is merged into the collection
    latest: bool = True  # the folder becomes the logs' `latest`: a deploy's copy of what it
    # replaces does not (`latest` stays the last run's or teardown's)

    @property
    def target(self) -> str:
        count = len(self.containers)
        return f"{count} container{'s' if count != 1 else ''}"


@dataclass(frozen=True)
class Stop(Action):
    """Graceful stop: SIGTERM, then SIGKILL after the container's own stop timeout."""

    kind = Kind.STOP
    container: ObservedContainer

    @property
    def target(self) -> str:
        return self.container.name


@dataclass(frozen=True)
class Kill(Action):
    kind = Kind.KILL
    container: ObservedContainer

    @property
    def target(self) -> str:
        return self.container.name


@dataclass(frozen=True)
class Remove(Action):
    """Stop (gracefully, if it still runs) and remove a container."""

    kind = Kind.REMOVE
    container: ObservedContainer

    @property
    def target(self) -> str:
        return self.container.name


@dataclass(frozen=True)
class RemoveNetwork(Action):
    """Remove a network, first detaching the cluster's containers that are still on it."""

    kind = Kind.REMOVE_NETWORK
    network: ObservedNetwork
    detach: tuple[str, ...] = ()

    @property
    def target(self) -> str:
        return self.network.name


@dataclass(frozen=True)
class CreateNetwork(Action):
    kind = Kind.CREATE_NETWORK
    network: DesiredNetwork

    @property
    def target(self) -> str:
        return self.network.name


@dataclass(frozen=True)
class CreateVolume(Action):
    """A node's data volume, labelled with the cluster (before its container is created)."""

    kind = Kind.CREATE_VOLUME
    volume: DesiredVolume

    @property
    def target(self) -> str:
        return self.volume.name


@dataclass(frozen=True)
class RemoveVolume(Action):
    kind = Kind.REMOVE_VOLUME
    volume: ObservedVolume

    @property
    def target(self) -> str:
        return self.volume.name


@dataclass(frozen=True)
class WriteFile(Action):
    kind = Kind.WRITE_FILE
    container: DesiredContainer
    file: RenderedFile

    @property
    def target(self) -> str:
        return f"{self.container.files_host_dir}/{self.file.path}"


@dataclass(frozen=True)
class RemoveFiles(Action):
    kind = Kind.REMOVE_FILES
    directory: str

    @property
    def target(self) -> str:
        return self.directory


@dataclass(frozen=True)
class Create(Action):
    kind = Kind.CREATE
    container: DesiredContainer

    @property
    def target(self) -> str:
        return self.container.name


@dataclass(frozen=True)
class Recreate(Action):
    """Replace a container: stop and remove the old one, create and start the new one."""

    kind = Kind.RECREATE
    container: DesiredContainer
    old: ObservedContainer

    @property
    def target(self) -> str:
        return self.container.name


@dataclass(frozen=True)
class Start(Action):
    kind = Kind.START
    container: DesiredContainer

    @property
    def target(self) -> str:
        return self.container.name


@dataclass(frozen=True)
class Wait(Action):
    """Wait until the containers run, and pass their health checks where they have one."""

    kind = Kind.WAIT
    containers: tuple[DesiredContainer, ...]

    @property
    def target(self) -> str:
        return "healthy"


@dataclass(frozen=True)
class Bootstrap(Action):
    """Run the command that makes the healthy nodes a cluster; record that it ran."""

    kind = Kind.BOOTSTRAP
    bootstrap: DesiredBootstrap

    @property
    def target(self) -> str:
        return self.bootstrap.container


@dataclass(frozen=True)
class WriteHosts(Action):
    """Put the cluster's block into the Docker host's /etc/hosts (nothing else changes)."""

    kind = Kind.WRITE_HOSTS
    cluster: str
    block: str

    @property
    def target(self) -> str:
        return "/etc/hosts"


@dataclass(frozen=True)
class RemoveHosts(Action):
    kind = Kind.REMOVE_HOSTS
    cluster: str

    @property
    def target(self) -> str:
        return "/etc/hosts"
