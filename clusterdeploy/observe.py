"""What exists on a Docker host, read in one batched shell command.

One command runs a constant number of docker calls whatever the node count (`docker ps`,
one `docker inspect` of every cluster container, `docker network ls/inspect`, `docker images`,
and a checksum of the rendered files), so a no-op redeploy stays cheap, also over SSH.
The result is a plain value; planning makes no further calls.
"""

from __future__ import annotations

import json
import shlex
import subprocess
from dataclasses import dataclass, field

from . import labels

MARK = "@@clusterdeploy:"


@dataclass(frozen=True)
class ObservedContainer:
    id: str
    name: str
    status: str  # created, running, exited, ...
    exit_code: int
    health: str | None  # starting, healthy, unhealthy; None without a health check
    started_at: str
    oom_killed: bool
    restart_count: int
    finished_at: str
    labels: dict[str, str]
    networks: tuple[str, ...]

    @property
    def running(self) -> bool:
        return self.status == "running"

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

    @property
    def cluster(self) -> str:
        return self.labels.get(labels.CLUSTER, "")

    @property
    def config_hash(self) -> str:
        return self.labels.get(labels.CONFIG_HASH, "")


@dataclass(frozen=True)
class ObservedState:
    error: str | None = None
    names: dict[str, str] = field(default_factory=dict)  # every container name -> its cluster label
    containers: tuple[ObservedContainer, ...] = ()  # the cluster's containers
    networks: tuple[ObservedNetwork, ...] = ()
    images: dict[str, str] = field(default_factory=dict)  # repo:tag -> image ID
    files: dict[str, str] = field(default_factory=dict)  # host path -> sha256

    def container(self, name: str) -> ObservedContainer | None:
        return next((c for c in self.containers if c.name == name), None)

    def network(self, name: str) -> ObservedNetwork | None:
        return next((n for n in self.networks if n.name == name), None)


def observe_script(cluster: str, network: str, files_root: str) -> str:
    """The one shell command that reads everything planning needs."""
    q = shlex.quote
    label = q(labels.cluster_filter(cluster))
    names_format = q("{{.Names}}\t{{.Label \"" + labels.CLUSTER + "\"}}")
    nets_format = q("{{.ID}}\t{{.Name}}\t{{.Label \"" + labels.CLUSTER + "\"}}")
    image_format = q(IMAGES_FORMAT)
    return "\n".join([
        f"names=$(docker ps -a --no-trunc --format {names_format} 2>&1) || "
        f"{{ echo {MARK}error; printf '%s\\n' \"$names\"; exit 0; }}",
        f"echo {MARK}names; printf '%s\\n' \"$names\"",
        f"echo {MARK}containers",
        f"ids=$(docker ps -aq --no-trunc --filter {label})",
        "if [ -n \"$ids\" ]; then docker inspect $ids; else echo '[]'; fi",
        f"echo {MARK}networks",
        f"nets=$(docker network ls --no-trunc --format {nets_format} | "
        f"awk -F '\\t' -v n={q(network)} -v c={q(cluster)} '$2 == n || $3 == c {{print $1}}')",
        "if [ -n \"$nets\" ]; then docker network inspect $nets; else echo '[]'; fi",
        f"echo {MARK}images",
        f"docker images --no-trunc --format {image_format}",
        f"echo {MARK}files",
        f"if [ -d {q(files_root)} ]; then find {q(files_root)} -type f -exec sha256sum {{}} +; fi",
        f"echo {MARK}end",
    ])


def _sections(text: str) -> dict[str, list[str]]:
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith(MARK):
            current = sections.setdefault(line[len(MARK):].strip(), [])
        elif current is not None:
            current.append(line)
    return sections


def parse_observation(text: str) -> ObservedState:
    """Turn the script's output into an ObservedState (raises ValueError when it is cut short)."""
    sections = _sections(text)
    if "error" in sections:
        return ObservedState(error="\n".join(sections["error"]).strip() or "docker failed")
    if "end" not in sections:
        raise ValueError("the observation was cut short: " + text[-500:])
    names = {}
    for line in sections["names"]:
        if line.strip():
            name, _, cluster = line.partition("\t")
            names[name] = cluster
    containers = tuple(_container(c) for c in json.loads("\n".join(sections["containers"]) or "[]"))
    networks = tuple(_network(n) for n in json.loads("\n".join(sections["networks"]) or "[]"))
    images = parse_images(sections["images"])
    files = {}
    for line in sections["files"]:
        digest, _, path = line.partition("  ")
        if path:
            files[path] = digest
    return ObservedState(None, names, containers, networks, images, files)


IMAGES_FORMAT = "{{.Repository}}:{{.Tag}}\t{{.ID}}"


def parse_images(lines: list[str]) -> dict[str, str]:
    """`docker images --format IMAGES_FORMAT` output -> {repo:tag: image ID}."""
    images = {}
    for line in lines:
        ref, _, image_id = line.partition("\t")
        if image_id and "<none>" not in ref:
            images[ref] = image_id
    return images


def local_image_ids() -> dict[str, str]:
    """repo:tag -> ID on the local engine (where `ship` builds images for a remote host)."""
    result = subprocess.run(["docker", "images", "--no-trunc", "--format", IMAGES_FORMAT],
                            capture_output=True, text=True, check=False)
    return parse_images(result.stdout.splitlines())


def _container(data: dict) -> ObservedContainer:
    state = data.get("State") or {}
    health = state.get("Health") or {}
    return ObservedContainer(
        id=data["Id"],
        name=data["Name"].lstrip("/"),
        status=state.get("Status", ""),
        exit_code=int(state.get("ExitCode", 0)),
        health=health.get("Status"),
        started_at=state.get("StartedAt", ""),
        oom_killed=bool(state.get("OOMKilled", False)),
        restart_count=int(data.get("RestartCount", 0)),
        finished_at=state.get("FinishedAt", ""),
        labels=dict((data.get("Config") or {}).get("Labels") or {}),
        networks=tuple(sorted((data.get("NetworkSettings") or {}).get("Networks") or {})),
    )


def _network(data: dict) -> ObservedNetwork:
    ipam = (data.get("IPAM") or {}).get("Config") or []
    return ObservedNetwork(
        id=data["Id"],
        name=data["Name"],
        labels=dict(data.get("Labels") or {}),
        subnets=tuple(c["Subnet"] for c in ipam if c.get("Subnet")),
        containers={cid: c.get("Name", "") for cid, c in (data.get("Containers") or {}).items()},
    )
