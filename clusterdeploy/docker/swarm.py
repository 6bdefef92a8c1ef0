"""Swarm membership on a Docker host: the one script that reads it, and the commands that
change it (init, join, leave). What to change is decided in core/swarm.py."""

from __future__ import annotations

import posixpath
import re
import shlex
from dataclasses import dataclass, field

from ..core import labels
from ..core.swarm import SwarmMember, parse_swarm
from ..errors import DeployError, docker_unreachable, on_host

MARK = "### clusterdeploy-swarm "
RECORD = ".swarm-node"  # in the state dir: the node ID of the swarm clusterdeploy put it in


def record_path(state_dir: str) -> str:
    return posixpath.join(state_dir, RECORD)


@dataclass(frozen=True)
class SwarmObservation:
    member: SwarmMember
    nodes: tuple[str, ...] = ()  # a manager's: the IDs of every node of its swarm
    overlays: dict[str, str] = field(default_factory=dict)  # a manager's: overlay -> cluster


def swarm_script(state_dir: str) -> str:
    """Membership, clusterdeploy's record of it, and (on a manager) the swarm's nodes and
    overlay networks, in one command."""
    q = shlex.quote
    overlay_format = q("{{.Name}}\t{{.Label \"" + labels.CLUSTER + "\"}}")
    failed = f'{{ echo {q(MARK)}error; printf "%s\\n" "$out"; exit 0; }}'
    return "\n".join([
        f"out=$(docker info --format '{{{{json .Swarm}}}}' 2>&1) || {failed}",
        f'echo {q(MARK)}info; printf "%s\\n" "$out"',
        f"echo {q(MARK)}record; cat -- {q(record_path(state_dir))} 2>/dev/null",
        'case "$out" in *\'"ControlAvailable":true\'*|*\'"ControlAvailable": true\'*)',
        f"  out=$(docker node ls -q 2>&1) || {failed}",
        f'  echo {q(MARK)}nodes; printf "%s\\n" "$out"',
        f"  out=$(docker network ls --filter driver=overlay --format {overlay_format} 2>&1) "
        f"|| {failed}",
        f'  echo {q(MARK)}overlays; printf "%s\\n" "$out";;',
        "esac",
        f"echo {q(MARK)}end",
    ])


def parse_swarm_observation(text: str, host: str) -> SwarmObservation:
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith(MARK):
            current = sections.setdefault(line[len(MARK):].strip(), [])
        elif current is not None:
            current.append(line)
    if "error" in sections or "end" not in sections:
        raise docker_unreachable(host, "\n".join(sections.get("error", [])) or text[-300:]
                                 or "docker info failed")
    try:
        member = parse_swarm("\n".join(sections.get("info", [])),
                             "\n".join(sections.get("record", [])))
    except ValueError as exc:
        raise DeployError(on_host(host, f"cannot read its swarm state: {exc}")) from exc
    overlays = dict(line.partition("\t")[::2] for line in sections.get("overlays", []) if line)
    return SwarmObservation(member, tuple(n for n in sections.get("nodes", []) if n), overlays)


def init_command(advertise: str | None, address_pool: str | None) -> list[str]:
    return ["docker", "swarm", "init",
            *(["--advertise-addr", advertise] if advertise else []),
            *(["--default-addr-pool", address_pool] if address_pool else [])]


JOIN_TOKEN = ["docker", "swarm", "join-token", "worker"]
_JOIN = re.compile(r"docker swarm join --token (\S+) (\S+)")


def parse_join(text: str) -> tuple[str, str] | None:
    """(token, manager address) from `docker swarm join-token worker`'s output."""
    found = _JOIN.search(text)
    return (found.group(1), found.group(2)) if found else None


def join_command(token: str, manager: str, advertise: str | None) -> list[str]:
    return ["docker", "swarm", "join", "--token", token,
            *(["--advertise-addr", advertise] if advertise else []), "--", manager]


def record_script(state_dir: str) -> str:
    """Write the node ID this host now has into clusterdeploy's record (after init or join)."""
    path = shlex.quote(record_path(state_dir))
    return (f"mkdir -p -- {shlex.quote(state_dir)} && docker info --format '{{{{.Swarm.NodeID}}}}'"
            f" > {path}.tmp && mv -f -- {path}.tmp {path}")


def leave_script(state_dir: str, force: bool) -> str:
    leave = shlex.join(["docker", "swarm", "leave", *(["--force"] if force else [])])
    return f"{leave} && rm -f -- {shlex.quote(record_path(state_dir))}"
