"""The spec expanded into exactly what should exist on a Docker host.

Pure: depends on the spec, its rendered files, the image IDs where images are built (they are
part of image identity) and on the host, and the host directory for rendered files.

A container setting reaches `DesiredContainer` by name: every field that `_container` does not
derive is copied from the member's settings. The config hash covers the whole desired container
except `NOT_HASHED`; a field with a default (an option added later) is hashed only when set, so
adding an option never changes the hash of an existing container (and never recreates every
user's cluster after an upgrade).
"""

from __future__ import annotations

import dataclasses
import posixpath
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..clusterspec import HealthCheck, Member, PortMapping, Spec
from .hashing import canonical_hash, sha256_bytes
from .hostsfile import hosts_block
from .images import MISSING, DesiredImage, desired_images, normalize_ref
from .render import Rendered, RenderedFile, render_bootstrap


@dataclass(frozen=True)
class DesiredNetwork:
    name: str
    subnet: str
    gateway: str
    config_hash: str
    driver: str = "bridge"  # or "overlay" (attachable, on a swarm) over several hosts
    ip_range: str | None = None  # an overlay's range for Swarm's own endpoints


@dataclass(frozen=True)
class DesiredContainer:
    name: str  # container name
    member: str  # node name or "tester"
    hostname: str
    address: str
    image: str  # reference to create from
    image_identity: str  # content hash of a built image, or the ID of an existing one
    user: str
    command: tuple[str, ...]
    environment: dict[str, str]
    ports: tuple[PortMapping, ...]
    init: bool
    privileged: bool
    cap_add: tuple[str, ...]
    cap_drop: tuple[str, ...]
    stop_grace_period: float
    healthcheck: HealthCheck | None
    ready_timeout: float
    files_host_dir: str
    files_dir: str
    files: tuple[RenderedFile, ...]
    files_mount: tuple[str, ...]  # the rendered-files directory, read-only
    network: str
    config_hash: str = ""
    # Options: hashed only when set (see the module docstring).
    volumes: tuple[str, ...] = ()  # `<volume name>:<path>`: the node's own data volumes
    mounts: tuple[str, ...] | None = None  # `SOURCE:TARGET:ro|rw`
    tmpfs: tuple[str, ...] | None = None
    memory: str | None = None
    memory_swap: str | None = None
    cpus: float | None = None
    pids_limit: int | None = None
    ulimits: dict[str, Any] | None = None
    sysctls: dict[str, Any] | None = None
    restart: str | None = None
    extra_hosts: tuple[str, ...] | None = None
    shm_size: str | None = None
    labels: dict[str, Any] | None = None
    working_dir: str | None = None
    entrypoint: tuple[str, ...] | None = None

    def hash_input(self) -> dict[str, Any]:
        """Everything that defines the container, canonical: what the config hash covers."""
        data: dict[str, Any] = {}
        for field in dataclasses.fields(self):
            if field.name in NOT_HASHED:
                continue
            value = getattr(self, field.name)
            if field.default is not dataclasses.MISSING and value == field.default:
                continue  # an option that is not set
            canonical = HASH_FORMS.get(field.name, _canonical)(value)
            if field.name in UNORDERED:
                canonical = sorted(canonical)
            data[HASH_KEYS.get(field.name, field.name)] = canonical
        return data

    def label_input(self) -> dict[str, Any]:
        """`hash_input` with environment values hashed: what the config label shows (labels
        are readable by anyone who can list containers; environment values are often secrets).
        Enough to say which variable changed."""
        data = self.hash_input()
        data["environment"] = {key: "sha256:" + sha256_bytes(value.encode())[:16]
                               for key, value in self.environment.items()}
        return data


# Fields the config hash leaves out, and why.
NOT_HASHED = {
    "name": "the container's identity, not its configuration",
    "member": "the node the container belongs to, not its configuration",
    "image": "a reference; the content it names is hashed as image_identity",
    "ready_timeout": "how long a deploy waits, not how the container runs",
    "files_host_dir": "covered by files_mount",
    "files_dir": "covered by files_mount",
    "config_hash": "the result",
}
# field -> key in the hash input (and the config label); "mounts" was the files mount's key
HASH_KEYS = {"image_identity": "image", "files_mount": "mounts", "mounts": "extra_mounts"}
UNORDERED = {"cap_add", "cap_drop", "ports"}  # lists whose order means nothing to Docker
HASH_FORMS: dict[str, Callable[[Any], Any]] = {  # field -> its form in the hash input
    "files": lambda files: {f.path: [sha256_bytes(f.content), f.mode] for f in files},
}
DERIVED = {"name", "member", "hostname", "address", "image", "image_identity", "ports",
           "files_host_dir", "files", "files_mount", "network", "config_hash", "volumes"}


def _canonical(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_canonical(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _canonical(value[k]) for k in sorted(value)}
    if isinstance(value, PortMapping):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _canonical(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return value


@dataclass(frozen=True)
class DesiredVolume:
    name: str  # `<cluster>_<node>_<name>`
    member: str
    keep: bool


@dataclass(frozen=True)
class DesiredBootstrap:
    container: str  # the container it runs in
    command: tuple[str, ...]  # rendered
    when: str  # created | recreated | always
    record_path: str  # on the host, once it succeeded: `record`
    record: bytes  # names the command: a changed command runs again


@dataclass(frozen=True)
class DesiredState:
    cluster: str
    files_root: str  # host directory holding every container's rendered files
    network: DesiredNetwork
    images: tuple[DesiredImage, ...]  # what must be on the Docker host, in build order
    containers: tuple[DesiredContainer, ...]
    build_chain: tuple[DesiredImage, ...] = ()  # every image, in build order, where it is built
    volumes: tuple[DesiredVolume, ...] = ()
    bootstrap: DesiredBootstrap | None = None
    hosts_block: str | None = None  # the /etc/hosts block, when host names are on
    faults_dir: str = ""  # the fault journal on the host (faults_dir())
    fault_helper: DesiredImage | None = None  # the image that heals faults, when it is built

    def container(self, name: str) -> DesiredContainer | None:
        return next((c for c in self.containers if c.name == name), None)


def resolve_image(image: str, images: list[DesiredImage],
                  host_ids: Mapping[str, str]) -> tuple[str, str]:
    """(reference, identity) of a container's image: a built one by key or tag, else as given."""
    for built in images:
        if image in (built.key, built.tag, built.latest):
            return built.ref, built.hash
    return image, host_ids.get(normalize_ref(image), MISSING)


def _container(spec: Spec, member: Member, images: list[DesiredImage],
               host_ids: Mapping[str, str], root: str, files: tuple[RenderedFile, ...],
               ) -> DesiredContainer:
    settings = member.settings
    image, identity = resolve_image(settings.image, images, host_ids)
    host_dir = posixpath.join(root, member.container_name)
    fields = {f.name for f in dataclasses.fields(DesiredContainer)}
    container = DesiredContainer(
        name=member.container_name,
        member=member.name,
        hostname=member.hostname,
        address=member.address,
        image=image,
        image_identity=identity,
        ports=member.ports,
        files_host_dir=host_dir,
        files=files,
        files_mount=(f"{host_dir}:{settings.files_dir}:ro",),
        volumes=tuple(f"{volume_name(spec.name, member.name, v['name'])}:{v['path']}"
                      for v in settings.get("volumes", ())),
        network=spec.network.name,
        **{key: value for key, value in settings.items()
           if key in fields and key not in DERIVED},
    )
    return dataclasses.replace(container, config_hash=canonical_hash(container.hash_input()))


def volume_name(cluster: str, member: str, name: str) -> str:
    """A node's data volume: `<cluster>_<node>_<name>`."""
    return f"{cluster}_{member}_{name}"


def host_state_dir(state_dir: str, host: str, spans_hosts: bool) -> str:
    """Where one Docker host keeps a cluster's state (rendered files, lock, fault journal,
    swarm record): `state_dir` itself, or over several hosts `<state_dir>/<host>`, so hosts
    that share a file system (an NFS home, test hosts in network namespaces) never take each
    other's files for their own."""
    return posixpath.join(state_dir, host) if spans_hosts else state_dir


def files_root(cluster: str, state_dir: str) -> str:
    """The host directory holding every container's rendered files of a cluster."""
    return posixpath.join(state_dir, cluster)


def faults_dir(cluster: str, state_dir: str) -> str:
    """The host directory of a cluster's fault journal and nemesis log (faults/journal.py):
    beside the rendered files, so that removing those never loses an active fault."""
    return posixpath.join(state_dir, ".clusterdeploy-faults", cluster)


def desired_network(spec: Spec) -> DesiredNetwork:
    network = spec.network
    identity = {"name": network.name, "subnet": network.subnet, "driver": network.driver}
    if network.endpoint_range:
        identity["ip_range"] = network.endpoint_range
    return DesiredNetwork(network.name, network.subnet, network.gateway,
                          canonical_hash(identity), network.driver, network.endpoint_range)


def _bootstrap(spec: Spec, root: str, members: tuple[Member, ...]) -> DesiredBootstrap | None:
    """The bootstrap, on the host of the container it runs in (`members`: that host's)."""
    command = render_bootstrap(spec)
    member = spec.member(spec.bootstrap.container) if spec.bootstrap else None
    if spec.bootstrap is None or command is None or member is None or member not in members:
        return None
    record = f"{canonical_hash({'command': list(command)})}\n".encode()
    return DesiredBootstrap(member.container_name, command, spec.bootstrap.when,
                            bootstrap_record(root), record)


BOOTSTRAP_RECORD = ".bootstrap"


def bootstrap_record(files_root: str) -> str:
    """Where a host records its cluster's bootstrap (the hash of the command that ran)."""
    return posixpath.join(files_root, BOOTSTRAP_RECORD)


def desired_state(spec: Spec, rendered: Rendered, state_dir: str, *,
                  build_ids: Mapping[str, str], host_ids: Mapping[str, str] | None = None,
                  shipped: bool = False, host_names: bool = False,
                  host: str | None = None) -> DesiredState:
    """What should exist on a host. `state_dir` is the host directory for rendered files.
    With `host`, only the containers (and their volumes and bootstrap) placed on that host.

    `build_ids` are the image IDs where images are built (they are part of image identity),
    `host_ids` those on the Docker host (for images clusterdeploy does not build; default:
    `build_ids`). With `shipped`, images are built elsewhere and only those the containers use
    must be on the host (the builder image never travels).
    """
    images = desired_images(spec, build_ids)
    host_ids = build_ids if host_ids is None else host_ids
    root = files_root(spec.name, state_dir)
    members = spec.members if host is None else spec.members_on(host)
    containers = tuple(_container(spec, m, images, host_ids, root, rendered[m.container_name])
                       for m in members)
    used = {c.image for c in containers}
    return DesiredState(
        cluster=spec.name,
        files_root=root,
        network=desired_network(spec),
        images=tuple(i for i in images if i.ref in used) if shipped else tuple(images),
        containers=containers,
        build_chain=tuple(images),
        volumes=tuple(DesiredVolume(volume_name(spec.name, m.name, v["name"]), m.name,
                                    v.get("keep", True))
                      for m in members for v in m.settings.get("volumes", ())),
        bootstrap=_bootstrap(spec, root, members),
        hosts_block=hosts_block(spec) if host_names or spec.host_names else None,
        faults_dir=faults_dir(spec.name, state_dir),
    )
