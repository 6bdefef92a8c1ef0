"""Reading a Docker host: one batched shell command in, a complete ObservedState out.

The command runs a constant number of docker calls whatever the node count, concurrently:
`docker ps` (one line per container with the labels planning needs), then a formatted
`docker inspect` of the cluster's containers (their wiring only: networks, addresses, aliases,
ports, mounts, hostname; a full inspect is 12 KB a container), `docker network ls` + `inspect`
of the cluster's networks, the images, and a checksum of the rendered files, and the cluster's
fault journal (one JSON line per active fault: faults/journal.py). So a no-op redeploy stays
cheap, also over SSH.

Images are read one of two ways. Listing them all (`docker images`, and those clusterdeploy
built) costs dockerd ~1 ms per image on the host (0.13-0.16 s each with ~500 images, the
slowest calls of a no-op); a deploy instead names the references its plan looks up
(core/images.py refs_to_observe) and inspects just those, each with its ID, whether
clusterdeploy built it, and its other tags (where the content-addressed `<tag>:<hash>` refs
are found). What that cannot settle is read by the listing after all (deploy/reading.py).

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

MARK = "@@clusterdeploy:"

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
IMAGES_FORMAT = "{{.Repository}}:{{.Tag}}\t{{.ID}}"
# `docker image inspect` of one named reference: its ID, clusterdeploy's build label, its tags.
# (`index` of an image without labels is a template error, hence the `if`.)
IMAGE_REF_FORMAT = ("{{.Id}}\t{{if .Config.Labels}}"
                    f'{{{{index .Config.Labels "{labels.IMAGE_HASH}"}}}}{{{{end}}}}'
                    "\t{{json .RepoTags}}")
NO_SUCH_IMAGE = "No such image"
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
        't=$(mktemp -d) || exit 1',
        'trap \'rm -rf "$t"\' EXIT',
        'call() { name=$1; shift; "$@" >"$t/$name" 2>"$t/$name.err"; echo $? >"$t/$name.rc"; }',
        f"( call ps docker ps -a --no-trunc --format {q(PS_FORMAT)}",
        f"  ids=$(awk -F '\\t' -v c={q(cluster)} "
        f"'{_column(PS_COLUMNS, 'cluster')} == c {{print {_column(PS_COLUMNS, 'id')}}}' \"$t/ps\")",
        '  if [ -n "$ids" ]; then call attach docker inspect --format '
        f'{q(ATTACHMENT_FORMAT)} $ids; else : >"$t/attach"; echo 0 >"$t/attach.rc"; fi ) &',
        f"( call netls docker network ls --no-trunc --format {net_format}",
        f'  nets=$({pick} "$t/netls")',
        '  if [ -n "$nets" ]; then call net docker network inspect $nets; '
        'else echo "[]" >"$t/net"; echo 0 >"$t/net.rc"; fi ) &',
        *(_listing_lines() if image_refs is None else _ref_lines(image_refs)),
        f"call vol docker volume ls --format {q(chr(9).join(VOLUME_COLUMNS.values()))} &",
        f"awk -v b={q(begin)} -v e={q(end)} '$0 == b {{on = 1}} on {{print}} $0 == e {{on = 0}}' "
        '/etc/hosts >"$t/hosts" 2>/dev/null &',
        f'( if [ -d {q(files_root)} ]; then : >"$t/root"; '
        f'find {q(files_root)} -type f -exec sha256sum {{}} +; fi >"$t/files" ) &',
        *_journal_lines(faults_dir),
        "wait",
        "for part in ps attach netls net vol; do",
        *_fail_on_error("$part"),
        "done",
        *(_listing_checks() if image_refs is None else _ref_checks(len(image_refs))),
        f'echo {MARK}ps; cat "$t/ps"',
        f'echo {MARK}attach; cat "$t/attach"',
        f'echo {MARK}networks; cat "$t/net"',
        *(_listing_output() if image_refs is None else _ref_output(len(image_refs))),
        f'echo {MARK}volumes; cat "$t/vol"',
        f'echo {MARK}hosts; cat "$t/hosts"',
        f'echo {MARK}files; cat "$t/files"',
        f'if [ -e "$t/root" ]; then echo {MARK}root; fi',
        *(['cat "$t/faults"'] if faults_dir else []),
        f"echo {MARK}end",
    ])


def _fail_on_error(part: str) -> list[str]:
    return [f'  if [ "$(cat "$t/{part}.rc" 2>/dev/null)" != 0 ]; then',
            f'    echo {MARK}error; cat "$t/{part}.err"; exit 0',
            "  fi"]


def _listing_lines() -> list[str]:
    return [f"call img docker images --no-trunc --format {shlex.quote(IMAGES_FORMAT)} &",
            f"call own docker images --no-trunc --filter label={shlex.quote(labels.IMAGE_HASH)} "
            "--format '{{.ID}}' &"]


def _listing_checks() -> list[str]:
    return ["for part in img own; do", *_fail_on_error("$part"), "done"]


def _listing_output() -> list[str]:
    return [f'echo {MARK}images; cat "$t/img"', f'echo {MARK}own; cat "$t/own"']


def _ref_lines(refs: Sequence[str]) -> list[str]:
    """One `docker image inspect` per reference, at once (with several names one call's
    output would not say which of them were missing)."""
    q = shlex.quote
    return [f"call ref{i} docker image inspect --format {q(IMAGE_REF_FORMAT)} -- {q(ref)} &"
            for i, ref in enumerate(refs)]


def _ref_checks(count: int) -> list[str]:
    """A reference that is not there is an answer; any other failure is the host's."""
    if not count:
        return []
    return [f"for part in {' '.join(f'ref{i}' for i in range(count))}; do",
            '  if [ "$(cat "$t/$part.rc" 2>/dev/null)" != 0 ] && '
            f'! grep -q {shlex.quote(NO_SUCH_IMAGE)} "$t/$part.err"; then',
            f'    echo {MARK}error; cat "$t/$part.err"; exit 0',
            "  fi",
            "done"]


def _ref_output(count: int) -> list[str]:
    """The `refs` section: per asked reference its position, a tab, and its inspect line
    (nothing after the tab when it is not on the host)."""
    return [f"echo {MARK}refs",
            *(f'printf \'%s\\t%s\\n\' {i} "$(cat "$t/ref{i}")"' for i in range(count))]


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


def _sections(text: str) -> dict[str, list[str]]:
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith(MARK):
            current = sections.setdefault(line[len(MARK):].strip(), [])
        elif current is not None:
            current.append(line)
    return sections


def parse_observation(text: str, cluster: str, host: str,
                      image_refs: Sequence[str] | None = None) -> ObservedState:
    """The script's output as an ObservedState; DeployError naming the host when docker failed
    or the output was cut short. `image_refs`: those the script was given."""
    sections = _sections(text)
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


def parse_image_listing(sections: dict[str, list[str]]) -> tuple[dict[str, str], frozenset[str]]:
    """The listing's sections -> ({repo:tag: image ID}, IDs of the images clusterdeploy built)."""
    return (parse_images(sections["images"]),
            frozenset(line.strip() for line in sections.get("own", []) if line.strip()))


def parse_image_refs(lines: list[str], refs: Sequence[str],
                     ) -> tuple[dict[str, str], frozenset[str]]:
    """The `refs` section -> ({each found reference and every tag of its image: image ID},
    IDs of the images among them that clusterdeploy built)."""
    images: dict[str, str] = {}
    own: set[str] = set()
    for line in lines:
        position, _, found = line.strip().partition("\t")
        image_id, _, rest = found.partition("\t")
        if not image_id or not position.isdigit() or int(position) >= len(refs):
            continue
        ref = refs[int(position)]
        built, _, tags = rest.partition("\t")
        for tag in json.loads(tags or "null") or ():
            images[str(tag)] = image_id
        images[ref] = image_id
        if built:
            own.add(image_id)
    return images, frozenset(own)


def listing_script() -> str:
    """Every image of the host, as the observation's `images` and `own` sections."""
    return "\n".join([
        't=$(mktemp -d) || exit 1',
        'trap \'rm -rf "$t"\' EXIT',
        'call() { name=$1; shift; "$@" >"$t/$name" 2>"$t/$name.err"; echo $? >"$t/$name.rc"; }',
        *_listing_lines(), "wait", *_listing_checks(), *_listing_output(), f"echo {MARK}end"])


def parse_listing(text: str, host: str) -> tuple[dict[str, str], frozenset[str]]:
    """listing_script's output; DeployError naming the host when docker failed."""
    sections = _sections(text)
    if "error" in sections:
        raise docker_unreachable(host, "\n".join(sections["error"]) or "docker failed")
    if "end" not in sections:
        raise DeployError(on_host(host, f"the image listing was cut short: {text[-300:]!r}"))
    return parse_image_listing(sections)


def parse_images(lines: list[str]) -> dict[str, str]:
    """`docker images --format IMAGES_FORMAT` output -> {repo:tag: image ID}."""
    images = {}
    for line in lines:
        ref, _, image_id = line.partition("\t")
        if image_id and "<none>" not in ref:
            images[ref] = image_id
    return images


def images_script() -> str:
    """The image IDs of an engine (where `ship` builds images for a remote host)."""
    return shlex.join(["docker", "images", "--no-trunc", "--format", IMAGES_FORMAT])


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
