"""One SSH connection to a remote Docker host, for everything outside pyinfra's deploy.

It carries shell scripts (exec channels) and the Docker API: `DockerRelay` is a private local
socket whose every connection is `docker system dial-stdio` on the host, so the Docker SDK (or
the docker CLI) talks to the remote engine as if it were local. Host keys are always checked
against the spec's known_hosts; only the spec's key is offered when it names one.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import paramiko

from ..clusterspec import SSHAccess
from ..errors import DeployError, on_host

CONNECT_TIMEOUT = 10.0
CHUNK = 65536


class SSHSession:
    """An authenticated SSH connection to one host (paramiko, strict host-key checking)."""

    def __init__(self, host: str, access: SSHAccess) -> None:
        self.host = host
        self.access = access
        self.client = paramiko.SSHClient()
        try:
            if access.known_hosts:
                self.client.load_host_keys(str(access.known_hosts))
            else:
                self.client.load_system_host_keys()
        except OSError as exc:
            raise DeployError(on_host(host, f"cannot read known_hosts: {exc}")) from None
        self.client.set_missing_host_key_policy(paramiko.RejectPolicy())
        own_key = access.key is not None
        try:
            self.client.connect(
                hostname=access.address, port=access.port, username=access.user,
                key_filename=str(access.key) if own_key else None,
                allow_agent=not own_key, look_for_keys=not own_key,
                timeout=CONNECT_TIMEOUT, banner_timeout=CONNECT_TIMEOUT,
                auth_timeout=CONNECT_TIMEOUT)
        except (paramiko.SSHException, OSError) as exc:
            raise DeployError(on_host(host, f"cannot connect over SSH to {access.user}@"
                                            f"{access.address}:{access.port}: "
                                            f"{exc or type(exc).__name__}")) from None

    def run(self, command: str, stdin: str = "") -> tuple[int, str, str]:
        """Run a command; (exit status, stdout, stderr)."""
        channel = self.exec(command)
        if stdin:
            channel.sendall(stdin.encode())
        channel.shutdown_write()
        out, err = bytearray(), bytearray()
        reader = threading.Thread(target=_drain, args=(channel.makefile_stderr("rb"), err))
        reader.start()
        out += channel.makefile("rb").read()
        reader.join()
        return channel.recv_exit_status(), out.decode(errors="replace"), err.decode(
            errors="replace")

    def exec(self, command: str) -> paramiko.Channel:
        transport = self.client.get_transport()
        if transport is None or not transport.is_active():
            raise DeployError(on_host(self.host, "the SSH connection was closed"))
        channel = transport.open_session()
        channel.exec_command(command)
        return channel

    def close(self) -> None:
        self.client.close()


def _drain(stream: BinaryIO, into: bytearray) -> None:
    into += stream.read()


class DockerRelay:
    """A local unix socket, in a directory only this user can enter, relaying each connection
    to the host's engine through the SSH session."""

    def __init__(self, session: SSHSession) -> None:
        self.session = session
        self.directory = Path(tempfile.mkdtemp(prefix="clusterdeploy-relay-"))  # mode 0700
        self.path = self.directory / "docker.sock"
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(str(self.path))
        self.server.listen(16)
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"unix://{self.path}"

    def _accept(self) -> None:
        while not self.closed:
            try:
                local, _ = self.server.accept()
            except OSError:
                return
            try:
                remote = self.session.exec("docker system dial-stdio")
            except (DeployError, paramiko.SSHException):
                local.close()
                continue
            threading.Thread(target=_pump, daemon=True,
                             args=(local.recv, remote.sendall, remote.shutdown_write)).start()
            threading.Thread(target=_pump, daemon=True,  # the engine hung up: all done
                             args=(remote.recv, local.sendall,
                                   lambda lo=local, re=remote: _hang_up(lo, re))).start()

    def close(self) -> None:
        self.closed = True
        with contextlib.suppress(OSError):
            self.server.close()
        shutil.rmtree(self.directory, ignore_errors=True)


def _hang_up(local: socket.socket, remote: paramiko.Channel) -> None:
    """End both sides. `shutdown` first: a bare `close` neither wakes the other pump's `recv`
    nor sends the client its end of stream while that `recv` holds the socket."""
    with contextlib.suppress(OSError):
        local.shutdown(socket.SHUT_RDWR)
    local.close()
    remote.close()


def _pump(read: Callable[[int], bytes], write: Callable[[bytes], object],
          done: Callable[[], object]) -> None:
    """Copy until end of stream, then signal end of stream on the other side."""
    try:
        while chunk := read(CHUNK):
            write(chunk)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError, EOFError):
            done()
