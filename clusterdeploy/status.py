"""`clusterdeploy status`: one row per container of the spec, and what runs versus the spec.

Reads the host with the same batched observation as a deploy and compares config hashes with
the desired state, so "drift" means exactly what the next deploy would change.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from . import labels
from .desired import desired_for, files_root
from .engine import run_script
from .errors import DeployError
from .observe import ObservedState, observe_script, parse_observation
from .plan import describe_change
from .spec import Spec


@dataclass(frozen=True)
class StatusRow:
    container: str
    member: str
    state: str
    health: str
    address: str
    host_ports: str
    image: str
    drift: str


def observe_host(spec: Spec, state_dir: str) -> ObservedState:
    """The observation a deploy makes, on the spec's Docker host (local or over SSH)."""
    host = spec.hosts[0]
    script = observe_script(spec.name, spec.network.name, files_root(spec.name, state_dir))
    output = run_script(host, script)
    where = "local engine" if host.is_local else host.name
    if output.returncode != 0 and "@@clusterdeploy:" not in output.stdout:
        last = (output.stderr.strip().splitlines() or ["no output"])[-1]
        raise DeployError(f"{where}: cannot reach the host: {last}")
    observed = parse_observation(output.stdout)
    if observed.error:
        raise DeployError(f"{where}: cannot talk to Docker: {observed.error.splitlines()[-1]}")
    return observed


def status_rows(spec: Spec, observed: ObservedState, state_dir: str) -> list[StatusRow]:
    host = spec.hosts[0]
    desired = desired_for(spec, observed, state_dir, "here" if host.is_local else host.images)
    rows = []
    for container in desired.containers:
        current = observed.container(container.name)
        ports = ", ".join(f"{p.host_ip}:{p.host_port}" for p in container.ports if p.host_port)
        if current is None:
            rows.append(StatusRow(container.name, container.member, "missing", "-",
                                  container.address, ports or "-", "-", "missing"))
            continue
        identity = json.loads(current.labels.get(labels.CONFIG, "{}")).get("image", "")
        drift = ("in sync" if current.config_hash == container.config_hash
                 else describe_change(current, container))
        rows.append(StatusRow(container.name, container.member,
                              current.status if current.status != "exited"
                              else f"exited ({current.exit_code})",
                              current.health or "-", container.address, ports or "-",
                              identity[:12] or "-", drift))
    wanted = {c.name for c in desired.containers}
    for current in observed.containers:
        if current.name not in wanted:
            rows.append(StatusRow(current.name, current.member, current.status,
                                  current.health or "-", "-", "-", "-", "not in the spec"))
    return rows


def render_table(rows: list[StatusRow]) -> str:
    headers = ["CONTAINER", "NODE", "STATE", "HEALTH", "ADDRESS", "HOST PORT", "IMAGE", "DRIFT"]
    table = [headers] + [list(asdict(r).values()) for r in rows]
    widths = [max(len(str(row[i])) for row in table) for i in range(len(headers))]
    return "\n".join("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True))
                     .rstrip() for row in table)


def render_json(rows: list[StatusRow]) -> str:
    return json.dumps([asdict(r) for r in rows], indent=2)
