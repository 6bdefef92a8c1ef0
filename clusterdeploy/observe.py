"""What exists on a Docker host, read in one batched shell command.

One command runs a constant number of docker calls whatever the node count, concurrently:
`docker ps` (one line per container with the labels planning needs: no full `docker inspect`,
which is 12 KB a container), `docker network ls` + `inspect` of the cluster's network,
`docker images`, and a checksum of the rendered files. So a no-op redeploy stays cheap, also
over SSH. The result is a plain value; planning makes no further calls.
"""

from __future__ import annotations

import json
import re
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
    health: str | None  # starting, healthy, unhealthy; None without a health check (or stopped)
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


# One line per container; the config label is canonical JSON, which never holds a raw tab.
PS_FIELDS = ("{{.ID}}", "{{.Names}}", "{{.State}}", "{{.Status}}", "{{.Networks}}",
             *(f'{{{{.Label "{key}"}}}}' for key in (labels.CLUSTER, labels.MEMBER,
                                                    labels.CONFIG_HASH, labels.CONFIG)))
PS_FORMAT = "\t".join(PS_FIELDS)


def observe_script(cluster: str, network: str, files_root: str) -> str:
    """The one shell command that reads everything planning needs (its calls run at once)."""
    q = shlex.quote
    nets_format = q("{{.ID}}\t{{.Name}}\t{{.Label \"" + labels.CLUSTER + "\"}}")
    return "\n".join([
        't=$(mktemp -d) || exit 1',
        'trap \'rm -rf "$t"\' EXIT',
        f'( docker ps -a --no-trunc --format {q(PS_FORMAT)} >"$t/ps" 2>&1; echo $? >"$t/rc" ) &',
        f"( nets=$(docker network ls --no-trunc --format {nets_format} | "
        f"awk -F '\\t' -v n={q(network)} -v c={q(cluster)} '$2 == n || $3 == c {{print $1}}'); "
        'if [ -n "$nets" ]; then docker network inspect $nets; else echo "[]"; fi >"$t/net" ) &',
        f'( docker images --no-trunc --format {q(IMAGES_FORMAT)} >"$t/img" ) &',
        f'( if [ -d {q(files_root)} ]; then find {q(files_root)} -type f -exec sha256sum {{}} +; '
        'fi >"$t/files" ) &',
        "wait",
        f'if [ "$(cat "$t/rc")" != 0 ]; then echo {MARK}error; cat "$t/ps"; exit 0; fi',
        f"echo {MARK}names",
        "awk -F '\\t' '{print $2 \"\\t\" $6}' \"$t/ps\"",
        f"echo {MARK}containers",
        f"awk -F '\\t' -v c={q(cluster)} '$6 == c' \"$t/ps\"",
        f'echo {MARK}networks; cat "$t/net"',
        f'echo {MARK}images; cat "$t/img"',
        f'echo {MARK}files; cat "$t/files"',
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
    containers = tuple(_container(line) for line in sections["containers"] if line.strip())
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


_HEALTH = re.compile(r"\((healthy|unhealthy|health: starting)\)")
_EXITED = re.compile(r"^Exited \((-?\d+)\)")


def _container(line: str) -> ObservedContainer:
    """One `docker ps --format PS_FORMAT` line."""
    cid, name, state, status, networks, cluster, member, config_hash, config = (
        line.split("\t") + [""] * 9)[:9]
    health = _HEALTH.search(status)
    exited = _EXITED.match(status)
    found = {labels.CLUSTER: cluster, labels.MEMBER: member, labels.CONFIG_HASH: config_hash,
             labels.CONFIG: config}
    return ObservedContainer(
        id=cid,
        name=name,
        status=state,
        exit_code=int(exited.group(1)) if exited else 0,
        health=health.group(1).replace("health: ", "") if health else None,
        labels={key: value for key, value in found.items() if value},
        networks=tuple(sorted(n for n in networks.split(",") if n)),
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
