"""The relay that carries the Docker API over SSH: each local connection is one exec channel
running `docker system dial-stdio`; ends of stream travel both ways. Tested with an in-process
"engine" behind a socket pair standing in for the SSH channel."""

from __future__ import annotations

import socket
import threading
from typing import Any

from clusterdeploy.docker.ssh import DockerRelay


class SocketChannel:
    """The parts of a paramiko Channel the relay uses, on one end of a socket pair."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def recv(self, size: int) -> bytes:
        return self.sock.recv(size)

    def sendall(self, data: bytes) -> None:
        self.sock.sendall(data)

    def shutdown_write(self) -> None:
        self.sock.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        self.sock.close()


class FakeSession:
    """Each exec starts an "engine" that answers one request, then hangs up (as the Docker
    engine does after an exec's process ends), optionally without waiting for the client."""

    def __init__(self) -> None:
        self.commands: list[str] = []

    def exec(self, command: str) -> Any:
        self.commands.append(command)
        ours, engine = socket.socketpair()

        def serve() -> None:
            request = engine.recv(1024)
            engine.sendall(b"reply to " + request)
            engine.shutdown(socket.SHUT_WR)  # the engine's end of stream; it keeps reading
            while engine.recv(1024):
                pass
            engine.close()
        threading.Thread(target=serve, daemon=True).start()
        return SocketChannel(ours)


def test_the_engines_end_of_stream_reaches_the_client_while_it_still_could_write():
    session = FakeSession()
    relay = DockerRelay(session)  # type: ignore[arg-type]
    try:
        client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        client.settimeout(5)
        client.connect(str(relay.path))
        client.sendall(b"GET /exec")
        received = b""
        while chunk := client.recv(1024):  # a hang here is the bug: no end of stream
            received += chunk
        assert received == b"reply to GET /exec"
        assert session.commands == ["docker system dial-stdio"]
    finally:
        relay.close()


def test_the_relay_socket_is_private_and_removed_on_close():
    relay = DockerRelay(FakeSession())  # type: ignore[arg-type]
    directory = relay.path.parent
    assert directory.stat().st_mode & 0o777 == 0o700
    relay.close()
    assert not directory.exists()
