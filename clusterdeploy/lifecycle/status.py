"""`clusterdeploy status`: one row per container of the spec, and what runs versus the spec.

Reads the host with the same batched observation as a deploy and compares config hashes with
the desired state, so "drift" means exactly what the next deploy would change. The fault
journal comes with it: a row names the active faults on its container, and the table is
followed by a line per active fault.
"""

from __future__ import annotations

import dataclasses
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field

from ..clusterspec import Host, Spec
from ..core import labels
from ..core.changes import describe_change, drift
from ..core.desired import (
    DesiredContainer,
    DesiredState,
    desired_state,
    faults_dir,
    files_root,
    host_state_dir,
)
from ..core.observed import ObservedFault, ObservedState
from ..core.render import render_cluster
from ..docker.engine import Engine, build_image_ids
from ..faults.journal import JournalEntry


@dataclass(frozen=True)
class StatusRow:
    container: str
    member: str
    state: str
    health: str
    address: str
    host_ports: str
    image: str
    volumes: str
    drift: str
    faults: list[str] = field(default_factory=list)  # ids of the active faults on it
    host: str = ""  # the Docker host it runs on (over several hosts)


@dataclass(frozen=True)
class HostStatus:
    """One host's part: what runs there, what a deploy there would want, volume sizes."""

    host: Host
    observed: ObservedState
    desired: DesiredState
    sizes: dict[str, int]


def observe_and_desire(spec: Spec, state_dir: str, host: Host | None = None,
                       ) -> tuple[ObservedState, DesiredState, dict[str, int]]:
    """What runs on a host of the spec (the first by default), what a deploy there would want
    (its own part, over several hosts), and the size of each volume (bytes, by name)."""
    host = host or spec.hosts[0]
    here = host_state_dir(state_dir, host.name, spec.spans_hosts)
    with Engine(host) as engine:
        observed = engine.observe(spec.name, spec.network.name, files_root(spec.name, here),
                                  faults_dir(spec.name, here))
        sizes = engine.volume_sizes() if any(v.cluster == spec.name
                                             for v in observed.volumes.values()) else {}
    desired = desired_state(spec, render_cluster(spec), here,
                            build_ids=build_image_ids(host, observed.images),
                            host_ids=observed.images, shipped=host.ships_images,
                            host=host.name if spec.spans_hosts else None)
    return observed, desired, sizes


def cluster_status(spec: Spec, state_dir: str) -> list[HostStatus]:
    """Every host's part, read at once."""
    def read(host: Host) -> HostStatus:
        return HostStatus(host, *observe_and_desire(spec, state_dir, host))

    with ThreadPoolExecutor(max_workers=len(spec.hosts)) as pool:
        return list(pool.map(read, spec.hosts))


def cluster_rows(spec: Spec, parts: list[HostStatus]) -> list[StatusRow]:
    """The rows of every host; over several hosts each names its host, and a container on
    another host than the spec's says where it belongs."""
    if not spec.spans_hosts:
        return status_rows(parts[0].observed, parts[0].desired, parts[0].sizes)
    placed = {m.container_name: m.host for m in spec.members}
    rows = []
    for part in parts:
        for row in status_rows(part.observed, part.desired, part.sizes):
            if row.drift == "not in the spec" and row.container in placed:
                row = dataclasses.replace(row, drift=f"the spec puts it on "
                                                     f"{placed[row.container]}")
            rows.append(dataclasses.replace(row, host=part.host.name))
    return rows


def _size(count: int) -> str:
    value = float(count)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{count} B"


def _volumes(container: DesiredContainer, sizes: dict[str, int]) -> str:
    parts = []
    for volume in container.volumes:
        name = volume.split(":", 1)[0]
        size = sizes.get(name)
        parts.append(f"{name} {_size(size)}" if size is not None and size >= 0 else name)
    return ", ".join(parts) or "-"


def status_rows(observed: ObservedState, desired: DesiredState,
                sizes: dict[str, int] | None = None) -> list[StatusRow]:
    rows = []
    faults = {c: [f.id for f in observed.faults if c in f.containers]
              for c in {c.name for c in desired.containers}}
    for container in desired.containers:
        current = observed.container(container.name)
        ports = ", ".join(f"{p.host_ip}:{p.host_port}" for p in container.ports if p.host_port)
        volumes = _volumes(container, sizes or {})
        if current is None:
            rows.append(StatusRow(container.name, container.member, "missing", "-",
                                  container.address, ports or "-", "-", volumes, "missing"))
            continue
        identity = json.loads(current.labels.get(labels.CONFIG, "{}")).get("image", "")
        differs = (describe_change(current, container)
                   if current.config_hash != container.config_hash
                   else drift(container, current.attachment))
        rows.append(StatusRow(container.name, container.member,
                              current.status if current.status != "exited"
                              else f"exited ({current.exit_code}"
                                   f"{', OOM-killed' if current.oom_killed else ''})",
                              current.health or "-", container.address, ports or "-",
                              identity[:12] or "-", volumes, differs or "in sync",
                              faults[container.name]))
    wanted = {c.name for c in desired.containers}
    for current in observed.containers:
        if current.name not in wanted:
            rows.append(StatusRow(current.name, current.member, current.status,
                                  current.health or "-", "-", "-", "-", "-", "not in the spec"))
    return rows


def render_table(rows: list[StatusRow], observed: ObservedState | None = None) -> str:
    headers = ["CONTAINER", "NODE", "STATE", "HEALTH", "ADDRESS", "HOST PORT", "IMAGE",
               "VOLUMES", "DRIFT"]
    table = [headers] + [list(asdict(r).values())[:len(headers)] for r in rows]
    if any(r.host for r in rows):  # over several hosts: where each runs, after its node
        table = [[*row[:2], "HOST" if i == 0 else rows[i - 1].host, *row[2:]]
                 for i, row in enumerate(table)]
        headers = table[0]
    widths = [max(len(str(row[i])) for row in table) for i in range(len(headers))]
    lines = ["  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
             for row in table]
    if observed is not None and observed.faults:
        lines += ["", f"active faults ({len(observed.faults)}; `clusterdeploy fault list` "
                      f"details them, `clusterdeploy fault heal` heals them):"]
        lines += [f"  {f.id}  since {f.since[:19]}Z  {_describe(f)}" for f in observed.faults]
    return "\n".join(lines)


def _describe(fault: ObservedFault) -> str:
    try:
        return JournalEntry.parse(fault.record).fault.describe()
    except (ValueError, KeyError, TypeError, AttributeError):
        return f"{fault.fault} (an unreadable journal entry)"


def render_json(rows: list[StatusRow]) -> str:
    return json.dumps([asdict(r) for r in rows], indent=2)
