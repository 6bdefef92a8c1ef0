"""Reading a Docker host: one batched shell command in, a complete ObservedState out.

The command runs a constant number of docker calls whatever the node count, concurrently:
`docker ps` (one line per container with the labels planning needs), then a formatted
`docker inspect` of the cluster's containers (their wiring only: networks, addresses, aliases,
ports, mounts, hostname; a full inspect is 12 KB a container), `docker network ls` + `inspect`
of the cluster's networks, the images, and a checksum of the rendered files, and the cluster's
fault journal (one JSON line per active fault: faults/journal.py). So a no-op redeploy stays
cheap, also over SSH.

Images are read one of two ways (imagereads.py): all listed, or only the references a
deploy's plan looks up, inspected by name. The script's frame is batch.py's.

Deploy and teardown run it as a pyinfra fact, the lifecycle commands through
docker/engine.py; both parse it here. A docker call that fails makes the whole observation an
error naming the host: planning never sees a partial state.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Sequence
from typing import Any

from ..clusterspec.ports import ANY_ADDRESS, PortMapping
from ..core import labels
from ..core.hostsfile import hosts_markers
from ..core.observed import (
    Attachment,
    ObservedContainer,
    ObservedFault,
    ObservedNetwork,
    ObservedState,
    ObservedVolume,
)
from ..errors import DeployError, docker_unreachable, on_host
from .batch import MARK, PREAMBLE, fail_on_error, read_sections
from .imagereads import (
    listing_checks,
    listing_lines,
    listing_output,
    parse_image_listing,
    parse_image_refs,
    ref_checks,
    ref_lines,
    ref_output,
)

# `docker ps` columns, by name; the config label is canonical JSON, which never holds a tab.
PS_COLUMNS = {
    "id": "{{.ID}}",
    "name": "{{.Names}}",
    "state": "{{.State}}",
    "status": "{{.Status}}",
    "networks": "{{.Networks}}",
    "cluster": f'{{{{.Label "{labels.CLUSTER}"}}}}',
    "member": f'{{{{.Label "{labels.MEMBER}"}}}}',
    "config_hash": f'{{{{.Label "{labels.CONFIG_HASH}"}}}}',
    "config": f'{{{{.Label "{labels.CONFIG}"}}}}',
}
PS_FORMAT = "\t".join(PS_COLUMNS.values())
ATTACHMENT_COLUMNS = {
    "id": "{{.Id}}",
    "hostname": "{{.Config.Hostname}}",
    "networks": "{{json .NetworkSettings.Networks}}",
    "ports": "{{json .HostConfig.PortBindings}}",
    "mounts": "{{json .Mounts}}",
    "oom": "{{.State.OOMKilled}}",
}
ATTACHMENT_FORMAT = "\t".join(ATTACHMENT_COLUMNS.values())
NETWORK_COLUMNS = {"id": "{{.ID}}", "name": "{{.Name}}",
                   "cluster": f'{{{{.Label "{labels.CLUSTER}"}}}}'}
VOLUME_COLUMNS = {"name": "{{.Name}}", **{key: f'{{{{.Label "{label}"}}}}' for key, label in (
    ("cluster", labels.CLUSTER), ("member", labels.MEMBER), ("keep", labels.KEEP))}}


def _column(columns: dict[str, str], name: str) -> str:
    """The awk field (`$N`) of a named column."""
    return f"${list(columns).index(name) + 1}"


def observe_script(cluster: str, network: str, files_root: str, faults_dir: str = "",
                   image_refs: Sequence[str] | None = None) -> str:
    """The one shell command that reads everything planning needs (its calls run at once).

    `image_refs`: the only images to read (each inspected by name), instead of listing all.
    Each docker call's exit status is kept; any failure prints the `error` section instead
    of the state (an inspected reference that is not on the host is no failure)."""
    q = shlex.quote
    net_format = q("\t".join(NETWORK_COLUMNS.values()))
    name, owner, net_id = (_column(NETWORK_COLUMNS, c) for c in ("name", "cluster", "id"))
    begin, end = hosts_markers(cluster)
    pick = (f"awk -F '\\t' -v n={q(network)} -v c={q(cluster)} "
            f"'{name} == n || {owner} == c {{print {net_id}}}'")
    return "\n".join([
        *PREAMBLE,
        f"( call ps docker ps -a --no-trunc --format {q(PS_FORMAT)}",
        f"  ids=$(awk -F '\\t' -v c={q(cluster)} "
        f"'{_column(PS_COLUMNS, 'cluster')} == c {{print {_column(PS_COLUMNS, 'id')}}}' \"$t/ps\")",
        '  if [ -n "$ids" ]; then call attach docker inspect --format '
        f'{q(ATTACHMENT_FORMAT)} $ids; else : >"$t/attach"; echo 0 >"$t/attach.rc"; fi ) &',
        f"( call netls docker network ls --no-trunc --format {net_format}",
        f'  nets=$({pick} "$t/netls")',
        '  if [ -n "$nets" ]; then call net docker network inspect $nets; '
        'else echo "[]" >"$t/net"; echo 0 >"$t/net.rc"; fi ) &',
        *(listing_lines() if image_refs is None else ref_lines(image_refs)),
        f"call vol docker volume ls --format {q(chr(9).join(VOLUME_COLUMNS.values()))} &",
        f"awk -v b={q(begin)} -v e={q(end)} '$0 == b {{on = 1}} on {{print}} $0 == e {{on = 0}}' "
        '/etc/hosts >"$t/hosts" 2>/dev/null &',
        f'( if [ -d {q(files_root)} ]; then : >"$t/root"; '
        f'find {q(files_root)} -type f -exec sha256sum {{}} +; fi >"$t/files" ) &',
        *_journal_lines(faults_dir),
        "wait",
        "for part in ps attach netls net vol; do",
        *fail_on_error("$part"),
        "done",
        *(listing_checks() if image_refs is None else ref_checks(len(image_refs))),
        f'echo {MARK}ps; cat "$t/ps"',
        f'echo {MARK}attach; cat "$t/attach"',
        f'echo {MARK}networks; cat "$t/net"',
        *(listing_output() if image_refs is None else ref_output(len(image_refs))),
        f'echo {MARK}volumes; cat "$t/vol"',
        f'echo {MARK}hosts; cat "$t/hosts"',
        f'echo {MARK}files; cat "$t/files"',
        f'if [ -e "$t/root" ]; then echo {MARK}root; fi',
        *(['cat "$t/faults"'] if faults_dir else []),
        f"echo {MARK}end",
    ])


def _journal_lines(faults_dir: str) -> list[str]:
    """When the journal's directory exists: a `faults` section, each entry one line (an entry
    is one line of JSON)."""
    if not faults_dir:
        return []
    q = shlex.quote
    return [f'( if [ -d {q(faults_dir)} ]; then echo {MARK}faults; '
            f'for f in {q(faults_dir)}/*.json; do [ -f "$f" ] && {{ cat "$f"; echo; }}; done; '
            'fi >"$t/faults" 2>/dev/null ) &']


def parse_journal(lines: list[str]) -> tuple[ObservedFault, ...]:
    """The journal's entries, oldest first; an entry that does not parse is kept as
    `unreadable` (a heal then sweeps every container)."""
    found = []
    for line in lines:
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            found.append(ObservedFault(
                id=str(data["id"]), fault=str(data["fault"]),
                targets=tuple(str(t) for t in data.get("targets", ())),
                since=str(data.get("since", "")),
                containers=tuple(sorted(str(c) for c in (data.get("containers") or {}).values())),
                helper=str(data.get("helper", "")), record=line))
        except (ValueError, KeyError, TypeError, AttributeError):
            found.append(ObservedFault("?", "unreadable", (), "", (), "", line))
    return tuple(sorted(found, key=lambda f: (f.since, f.id)))


def parse_observation(text: str, cluster: str, host: str,
                      image_refs: Sequence[str] | None = None) -> ObservedState:
    """The script's output as an ObservedState; DeployError naming the host when docker failed
    or the output was cut short. `image_refs`: those the script was given."""
    sections = read_sections(text)
    if "error" in sections:
        raise docker_unreachable(host, "\n".join(sections["error"]) or "docker failed")
    if "end" not in sections:
        raise DeployError(on_host(host, f"the observation was cut short: {text[-300:]!r}"))
    rows = [dict(zip(PS_COLUMNS, line.split("\t"), strict=False))
            for line in sections["ps"] if line.strip()]
    wiring = dict(_attachment(line) for line in sections.get("attach", []) if line.strip())
    if "refs" in sections:
        images, own_images = parse_image_refs(sections["refs"], image_refs or ())
    else:
        images, own_images = parse_image_listing(sections)
    return ObservedState(
        names={row["name"]: row.get("cluster", "") for row in rows},
        containers=tuple(_container(row, wiring.get(row["id"])) for row in rows
                         if row.get("cluster") == cluster),
        networks=tuple(_network(n) for n in json.loads("\n".join(sections["networks"]) or "[]")),
        images=images,
        own_images=own_images,
        images_listed="refs" not in sections,
        files={path: digest for digest, _, path in
               (line.partition("  ") for line in sections["files"]) if path},
        files_root_exists="root" in sections,
        volumes=dict(_volume(line) for line in sections.get("volumes", []) if line.strip()),
        hosts_block="".join(f"{line}\n" for line in sections.get("hosts", [])) or None,
        faults=parse_journal(sections.get("faults", [])),
        faults_dir_exists="faults" in sections,
    )


_HEALTH = re.compile(r"\((healthy|unhealthy|health: starting)\)")
_EXITED = re.compile(r"^Exited \((-?\d+)\)")


def _volume(line: str) -> tuple[str, ObservedVolume]:
    row = dict(zip(VOLUME_COLUMNS, line.split("\t"), strict=False))
    found = {labels.CLUSTER: row.get("cluster", ""), labels.MEMBER: row.get("member", ""),
             labels.KEEP: row.get("keep", "")}
    return row["name"], ObservedVolume(row["name"], {k: v for k, v in found.items() if v})


def _attachment(line: str) -> tuple[str, Attachment]:
    """One `docker inspect --format ATTACHMENT_FORMAT` line: (container ID, its wiring)."""
    row = dict(zip(ATTACHMENT_COLUMNS, line.split("\t"), strict=False))
    networks = {
        name: ((net.get("IPAMConfig") or {}).get("IPv4Address") or net.get("IPAddress") or "",
               tuple(net.get("Aliases") or ()))
        for name, net in (json.loads(row.get("networks") or "null") or {}).items()}
    ports = frozenset(
        str(PortMapping(int(port.split("/")[0]), int(b["HostPort"]) if b.get("HostPort") else None,
                        b.get("HostIp") or ANY_ADDRESS, port.split("/")[1]))
        for port, bindings in (json.loads(row.get("ports") or "null") or {}).items()
        for b in bindings or ())
    mounts = frozenset(f"{m['Source']}:{m['Destination']}:{'rw' if m.get('RW') else 'ro'}"
                       for m in json.loads(row.get("mounts") or "null") or ()
                       if m.get("Type") == "bind")
    return row["id"], Attachment(row.get("hostname", ""), networks, ports, mounts,
                                 oom_killed=row.get("oom") == "true")


def _container(row: dict[str, str], attachment: Attachment | None = None) -> ObservedContainer:
    """One `docker ps --format PS_FORMAT` row, with the container's wiring where observed."""
    health = _HEALTH.search(row.get("status", ""))
    exited = _EXITED.match(row.get("status", ""))
    found = {labels.CLUSTER: row.get("cluster", ""), labels.MEMBER: row.get("member", ""),
             labels.CONFIG_HASH: row.get("config_hash", ""), labels.CONFIG: row.get("config", "")}
    return ObservedContainer(
        id=row["id"],
        name=row["name"],
        status=row.get("state", ""),
        exit_code=int(exited.group(1)) if exited else 0,
        health=health.group(1).replace("health: ", "") if health else None,
        labels={key: value for key, value in found.items() if value},
        networks=tuple(sorted(n for n in row.get("networks", "").split(",") if n)),
        attachment=attachment,
    )


def _network(data: dict[str, Any]) -> ObservedNetwork:
    ipam = (data.get("IPAM") or {}).get("Config") or []
    return ObservedNetwork(
        id=data["Id"],
        name=data["Name"],
        labels=dict(data.get("Labels") or {}),
        subnets=tuple(c["Subnet"] for c in ipam if c.get("Subnet")),
        containers={cid: c.get("Name", "") for cid, c in (data.get("Containers") or {}).items()
                    if not cid.startswith("lb-")},  # an overlay's own endpoint, not a container
        driver=data.get("Driver") or "bridge",
        scope=data.get("Scope") or "local",
    )
