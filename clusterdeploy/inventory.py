"""The pyinfra inventory built from the validated spec.

The spec is loaded and validated once, here, before pyinfra connects to anything; a bad spec
prints every problem and exits 1. Each Docker host carries the Spec as host data, and an SSH
host its connection settings as pyinfra's SSH connector takes them.
"""

from __future__ import annotations

import sys
from typing import Any

from .errors import SpecError
from .spec import Host, Spec, load_spec

LOCAL = "@local"


def load_or_exit() -> Spec:
    try:
        return load_spec()
    except SpecError as exc:
        print(str(exc), file=sys.stderr)
        raise SystemExit(1) from None


def host_entry(host: Host, spec: Spec) -> tuple[str, dict[str, Any]]:
    """One inventory entry: `@local`, or the host's name with its SSH settings."""
    data: dict[str, Any] = {"cluster_spec": spec, "cluster_host": host}
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


def docker_hosts(spec: Spec | None = None) -> list[tuple[str, dict[str, Any]]]:
    """The inventory group of Docker hosts."""
    spec = spec or load_or_exit()
    return [host_entry(host, spec) for host in spec.hosts]
