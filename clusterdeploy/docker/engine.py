"""A Docker host as everything outside pyinfra's deploy reaches it (run, status, logs, the
teardown's log collection, the image IDs `ship` builds against).

Two paths to Docker, one per purpose:
- converging (deploy.py, teardown.py): pyinfra's connector runs the command builders' lines;
- everything else: an `Engine`, which gives the Docker SDK (API calls, streams) and a shell
  (batched scripts such as the observation). Local: the engine's own socket and `sh`. Remote:
  one SSH connection carrying both (docker/ssh.py).
`Host.is_local` decides which; nothing else looks at how a host is reached.
"""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING

from ..clusterspec import Host
from ..core import labels
from ..core.observed import ObservedState
from ..errors import docker_unreachable
from .batch import MARK
from .imagereads import images_script, parse_images
from .observe import observe_script, parse_observation

if TYPE_CHECKING:  # the SDK (and paramiko, for SSH) are imported when first used: the
    import docker  # deploy path never needs the SDK, the local engine never needs paramiko
    from docker.models.containers import Container

    from .ssh import DockerRelay, SSHSession

LOCAL = Host(name="local", ssh=None, images="ship")


def container_name(container: Container) -> str:
    """A container's name, also from a sparse listing (`Names`, not `Name`)."""
    return container.name or str((container.attrs.get("Names") or [""])[0]).lstrip("/")


LOCAL_SOCKET = "unix:///var/run/docker.sock"  # the SDK's default without $DOCKER_HOST
POOL = 64  # connections the SDK keeps: `logs -f` holds one per followed container


@dataclass(frozen=True)
class ScriptResult:
    status: int
    stdout: str
    stderr: str


class Engine:
    """One Docker host's engine: `client` (the Docker SDK) and `run_script` (a shell)."""

    def __init__(self, host: Host = LOCAL) -> None:
        self.host = host
        self._session: SSHSession | None = None
        self._relay: DockerRelay | None = None
        self._client: docker.DockerClient | None = None

    @property
    def name(self) -> str:
        return self.host.name

    def _ssh(self) -> SSHSession:
        if self._session is None:
            assert self.host.ssh is not None
            from .ssh import SSHSession

            self._session = SSHSession(self.host.name, self.host.ssh)
        return self._session

    def run_script(self, script: str) -> ScriptResult:
        """Run a shell script on the host (`sh -s`, the script on stdin)."""
        if self.host.is_local:
            done = subprocess.run(["sh", "-s"], input=script, capture_output=True, text=True,
                                  check=False)
            return ScriptResult(done.returncode, done.stdout, done.stderr)
        return ScriptResult(*self._ssh().run("sh -s", stdin=script))

    def run(self, script: str) -> tuple[int, str]:
        """`run_script` as (status, stdout): how docker/lock.py reaches a host."""
        result = self.run_script(script)
        return result.status, result.stdout

    def stream_into(self, command: str, chunks: Iterable[bytes]) -> tuple[int, list[str]]:
        """Run `command` on the host with `chunks` as its stdin (an image for `docker load`, a
        build context for `docker build -`); (exit status, output lines)."""
        if self.host.is_local:
            process = subprocess.Popen(["sh", "-c", command], stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            assert process.stdin is not None and process.stdout is not None
            out = process.stdout
            output: list[bytes] = []
            reader = threading.Thread(target=lambda: output.append(out.read()))
            reader.start()
            try:
                with process.stdin:
                    for chunk in chunks:
                        process.stdin.write(chunk)
            except BrokenPipeError:
                pass  # it stopped reading: its status and output say why
            reader.join()
            return process.wait(), b"".join(output).decode(errors="replace").splitlines()
        channel = self._ssh().exec(command)
        try:
            channel.set_combine_stderr(True)
            for chunk in chunks:
                channel.sendall(chunk)
            channel.shutdown_write()
            received = b"".join(iter(lambda: channel.recv(1 << 16), b""))
            return channel.recv_exit_status(), received.decode(errors="replace").splitlines()
        finally:
            channel.close()

    @property
    def client(self) -> docker.DockerClient:
        """The Docker SDK, connected to this host's engine."""
        if self._client is None:
            import docker  # here, not at the top: only the lifecycle pays for the SDK

            try:
                if self.host.is_local:
                    self._client = docker.from_env(max_pool_size=POOL)
                else:
                    from .ssh import DockerRelay

                    self._relay = DockerRelay(self._ssh())
                    self._client = docker.DockerClient(base_url=self._relay.url,
                                                       max_pool_size=POOL)
            except docker.errors.DockerException as exc:
                raise docker_unreachable(self.name, str(exc)) from None
        return self._client

    def cli_env(self) -> dict[str, str]:
        """The environment in which the docker CLI reaches the engine the SDK reaches (not a
        CLI context): local, $DOCKER_HOST or the default socket; remote, this engine's relay
        (alive until `close`)."""
        env = {k: v for k, v in os.environ.items() if k != "DOCKER_CONTEXT"}
        if self.host.is_local:
            return {"DOCKER_HOST": LOCAL_SOCKET, **env}
        self.client  # noqa: B018 (opens the relay)
        assert self._relay is not None
        env = {k: v for k, v in env.items() if k not in ("DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH")}
        return {**env, "DOCKER_HOST": self._relay.url}

    def cluster_containers(self, cluster: str, sparse: bool = False) -> list[Container]:
        """Every container labelled with the cluster, running or not, sorted by name.

        `sparse`: only what `docker ps` shows, in one API call (without it the SDK inspects
        each container in turn, ~0.5-10 s at 100 containers), for callers that reload() the
        containers they read anyway."""
        found = self.client.containers.list(all=True, sparse=sparse,
                                            filters={"label": f"{labels.CLUSTER}={cluster}"})
        return sorted(found, key=container_name)

    def volume_sizes(self) -> dict[str, int]:
        """Bytes each volume holds (`docker system df -v`; -1 where Docker cannot tell)."""
        usage = self.client.df().get("Volumes") or []
        return {v["Name"]: int((v.get("UsageData") or {}).get("Size", -1)) for v in usage}

    def observe(self, cluster: str, network: str, files_root: str,
                faults_dir: str = "") -> ObservedState:
        """The observation a deploy makes (docker/observe.py), through this engine."""
        result = self.run_script(observe_script(cluster, network, files_root, faults_dir))
        if result.status != 0 and MARK not in result.stdout:
            raise docker_unreachable(self.name, result.stderr or result.stdout)
        return parse_observation(result.stdout, cluster, self.name)

    def image_ids(self) -> dict[str, str]:
        """repo:tag -> image ID of every image on the engine."""
        result = self.run_script(images_script())
        if result.status != 0:
            raise docker_unreachable(self.name, result.stderr)
        return parse_images(result.stdout.splitlines())

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        if self._relay is not None:
            self._relay.close()
        if self._session is not None:
            self._session.close()
        self._client = self._relay = self._session = None

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()


def build_image_ids(host: Host, on_host: Mapping[str, str]) -> Mapping[str, str]:
    """The image IDs where the host's images are built: this machine's for a host that gets
    them shipped (its base images define their hashes), the host's own otherwise."""
    return Engine().image_ids() if host.ships_images else on_host
