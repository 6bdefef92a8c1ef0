"""The pyinfra inventory built from the validated spec.

The spec is loaded, validated and rendered once, here, before pyinfra connects to anything; a
bad spec prints every problem and exits 1. Each Docker host carries the Spec and the rendered
files as host data (pyinfra hands deploy.py a shallow copy: nothing is rendered twice), and an
SSH host its connection settings as pyinfra's SSH connector takes them.
"""

from __future__ import annotations

import sys
from typing import Any

from ..clusterspec import Host, Spec, load_spec
from ..core.render import Rendered, render_cluster
from ..errors import SpecError
from .quickexit import freeze_heap_until_exit

LOCAL = "@local"


def load_or_exit() -> tuple[Spec, Rendered]:
    try:
        spec = load_spec()
        return spec, render_cluster(spec)
    except SpecError as exc:
        print(str(exc), file=sys.stderr)
        raise SystemExit(1) from None


def inventory_name(host: Host) -> str:
    """The name pyinfra knows a spec host by: `@local` for the local engine."""
    return LOCAL if host.is_local else host.name


def host_entry(host: Host, spec: Spec, rendered: Rendered) -> tuple[str, dict[str, Any]]:
    """One inventory entry: `@local`, or the host's name with its SSH settings."""
    data: dict[str, Any] = {"cluster_spec": spec, "cluster_rendered": rendered,
                            "cluster_host": host}
    if host.ssh is None:
        return LOCAL, data
    # Host keys are checked, always: the key must be in known_hosts (never "accept new").
    data.update(ssh_hostname=host.ssh.address, ssh_user=host.ssh.user, ssh_port=host.ssh.port,
                ssh_strict_host_key_checking="yes")
    if host.ssh.key:
        # the spec's key and nothing else: no agent, no ~/.ssh/id_* tried first
        data["ssh_key"] = str(host.ssh.key)
        data["ssh_paramiko_connect_kwargs"] = {"allow_agent": False, "look_for_keys": False}
    if host.ssh.known_hosts:
        data["ssh_known_hosts_file"] = str(host.ssh.known_hosts)
    return host.name, data


def docker_hosts() -> list[tuple[str, dict[str, Any]]]:
    """The inventory group of Docker hosts (loaded once pyinfra and clusterdeploy are
    imported: the moment to freeze the heap, quickexit.py)."""
    freeze_heap_until_exit()
    spec, rendered = load_or_exit()
    return [host_entry(host, spec, rendered) for host in spec.hosts]
