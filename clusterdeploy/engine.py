"""Docker SDK access to a cluster's engine, for what the CLI parses badly: streaming logs and
exec output, exit codes, parallel stops. Nothing here assumes the engine is local: a remote
host is reached with an `ssh://` base URL.
"""

from __future__ import annotations

import docker
from docker.models.containers import Container

from . import labels
from .errors import DeployError


def client_for(base_url: str | None = None) -> docker.DockerClient:
    """A client for the local engine (DOCKER_HOST or the default socket) or `base_url`."""
    try:
        if base_url:
            return docker.DockerClient(base_url=base_url, use_ssh_client=base_url.startswith("ssh"))
        return docker.from_env()
    except docker.errors.DockerException as exc:
        where = base_url or "the local engine"
        raise DeployError(f"{where}: cannot talk to Docker: {exc}") from None


def cluster_containers(client: docker.DockerClient, cluster: str) -> list[Container]:
    """Every container labelled with the cluster, running or not, sorted by name."""
    found = client.containers.list(all=True, filters={"label": f"{labels.CLUSTER}={cluster}"})
    return sorted(found, key=lambda c: c.name)
