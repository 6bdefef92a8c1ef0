"""The spec expanded into exactly what should exist on a Docker host.

Pure: depends on the spec, the IDs of external images observed on the host (they are part of
image identity) and the host directory for rendered files. Each container carries a config hash
over everything that defines it; the same hash means leave it alone.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass

from . import labels
from .hashing import canonical_hash, sha256_bytes
from .images import MISSING, DesiredImage, desired_images, normalize_ref
from .observe import ObservedState, local_image_ids
from .ports import PortMapping
from .render import RenderedFile, render_all
from .spec import ContainerSettings, HealthCheck, Node, Spec, Tester


@dataclass(frozen=True)
class DesiredNetwork:
    name: str
    subnet: str
    gateway: str
    config_hash: str


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
    network: str
    config_hash: str

    @property
    def labels(self) -> dict[str, str]:
        return {labels.MEMBER: self.member, labels.CONFIG_HASH: self.config_hash}

    def hash_input(self) -> dict[str, object]:
        """Everything that defines the container, canonical: what the config hash covers."""
        return {
            "image": self.image_identity,
            "hostname": self.hostname,
            "address": self.address,
            "network": self.network,
            "user": self.user,
            "command": list(self.command),
            "environment": dict(sorted(self.environment.items())),
            "ports": sorted(str(p) for p in self.ports),
            "init": self.init,
            "privileged": self.privileged,
            "cap_add": sorted(self.cap_add),
            "cap_drop": sorted(self.cap_drop),
            "stop_grace_period": self.stop_grace_period,
            "healthcheck": None if self.healthcheck is None else {
                "test": list(self.healthcheck.test),
                "interval": self.healthcheck.interval,
                "timeout": self.healthcheck.timeout,
                "retries": self.healthcheck.retries,
                "start_period": self.healthcheck.start_period,
            },
            "mounts": [f"{self.files_host_dir}:{self.files_dir}:ro"],
            "files": {f.path: [sha256_bytes(f.content), f.mode] for f in self.files},
        }


@dataclass(frozen=True)
class DesiredState:
    cluster: str
    files_root: str  # host directory holding every container's rendered files
    network: DesiredNetwork
    images: tuple[DesiredImage, ...]  # what must be on the Docker host, in build order
    containers: tuple[DesiredContainer, ...]
    build_chain: tuple[DesiredImage, ...] = ()  # every image, in build order, where it is built

    def container(self, name: str) -> DesiredContainer:
        return next(c for c in self.containers if c.name == name)

    @property
    def nodes(self) -> tuple[DesiredContainer, ...]:
        return tuple(c for c in self.containers if c.member != labels.TESTER)


def resolve_image(settings: ContainerSettings, images: list[DesiredImage],
                  base_ids: Mapping[str, str]) -> tuple[str, str]:
    """(reference, identity) of a container's image: a built one by key or tag, else as given."""
    for image in images:
        if settings.image in (image.key, image.tag, image.latest):
            return image.ref, image.hash
    return settings.image, base_ids.get(normalize_ref(settings.image), MISSING)


def _container(spec: Spec, member: Node | Tester, images: list[DesiredImage],
               base_ids: Mapping[str, str], root: str,
               rendered: Mapping[str, tuple[RenderedFile, ...]]) -> DesiredContainer:
    settings = member.settings
    image, identity = resolve_image(settings, images, base_ids)
    is_node = isinstance(member, Node)
    container = DesiredContainer(
        name=member.container_name,
        member=member.name if is_node else labels.TESTER,
        hostname=member.hostname,
        address=member.address,
        image=image,
        image_identity=identity,
        user=settings.user,
        command=settings.command,
        environment=dict(settings.environment),
        ports=member.ports if is_node else (),
        init=settings.init,
        privileged=settings.privileged,
        cap_add=settings.cap_add,
        cap_drop=settings.cap_drop,
        stop_grace_period=settings.stop_grace_period,
        healthcheck=settings.healthcheck,
        ready_timeout=settings.ready_timeout,
        files_host_dir=posixpath.join(root, member.container_name),
        files_dir=settings.files_dir,
        files=rendered[member.container_name],
        network=spec.network.name,
        config_hash="",
    )
    object.__setattr__(container, "config_hash", canonical_hash(container.hash_input()))
    return container


def files_root(cluster: str, state_dir: str) -> str:
    """The host directory holding every container's rendered files of a cluster."""
    return posixpath.join(state_dir, cluster)


def desired_state(spec: Spec, base_ids: Mapping[str, str], state_dir: str,
                  host_ids: Mapping[str, str] | None = None, shipped: bool = False) -> DesiredState:
    """What should exist on a host. `state_dir` is the host directory for rendered files.

    `base_ids` are the image IDs where images are built (they are part of image identity),
    `host_ids` those on the Docker host (for images clusterdeploy does not build; default:
    `base_ids`). With `shipped`, images are built elsewhere and only those the containers use
    must be on the host (the builder image never travels).
    """
    images = desired_images(spec, base_ids)
    host_ids = base_ids if host_ids is None else host_ids
    root = files_root(spec.name, state_dir)
    members: list[Node | Tester] = list(spec.nodes)
    if spec.tester.enabled:
        members.append(spec.tester)
    network = spec.network
    rendered = render_all(spec)
    containers = tuple(_container(spec, m, images, host_ids, root, rendered) for m in members)
    used = {c.image for c in containers}
    on_host = [i for i in images if i.ref in used] if shipped else images
    return DesiredState(
        cluster=spec.name,
        files_root=root,
        network=DesiredNetwork(
            network.name, network.subnet, network.gateway,
            canonical_hash({"name": network.name, "subnet": network.subnet, "driver": "bridge"}),
        ),
        images=tuple(on_host),
        containers=containers,
        build_chain=tuple(images),
    )


def desired_for(spec: Spec, observed: ObservedState, state_dir: str, how: str) -> DesiredState:
    """The desired state for a host, with images made `how` ("here", "ship" or "build").

    Shipped images are built on this machine, so its base images define their hashes.
    """
    if how == "ship":
        return desired_state(spec, local_image_ids(), state_dir, host_ids=observed.images,
                             shipped=True)
    return desired_state(spec, observed.images, state_dir)
