"""Images onto a remote Docker host without a registry, through pyinfra's SSH connection.

ship:  build on this machine where it lacks the image, then stream `docker save` into
       `docker load` running on the host (the bytes go through an exec channel's stdin).
build: stream the build context (what `.dockerignore` keeps, plus the Dockerfile) as a tar
       into `docker build -` running on the host.
Neither needs the SFTP subsystem nor leaves a file on the host. The content hash decides
beforehand: a host that has the hash gets nothing. Every failure is one message naming the host.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Sequence
from typing import IO, Any

import paramiko
from pyinfra.connectors.ssh import SSHConnector

from ..core.dockerignore import context_files
from ..core.images import DesiredImage
from ..docker import commands
from ..docker.buildcontext import open_context
from ..docker.engine import Engine
from ..docker.errors import build_failure
from .progress import BuildProgress, Progress, elapsed, run_streaming

CHUNK = 1 << 20


def build_locally(image: DesiredImage, host_name: str) -> tuple[bool, list[str]]:
    """Build on this machine (tagged by content hash only), with a progress line naming the
    host it is for; (ok, output lines)."""
    progress = BuildProgress(Progress(host_name), f"images.{image.key} ({image.ref}) here")
    status, lines = run_streaming(shlex.join(commands.build_image(image, tag_latest=False)),
                                  progress.line, progress.tick,
                                  env={**os.environ, **commands.BUILD_ENV})
    progress.finish(status == 0)
    return status == 0, lines


def ensure_local(target: DesiredImage, requires: Sequence[DesiredImage], host_name: str,
                 ) -> tuple[bool, DesiredImage, list[str]]:
    """Build `target` and the images it is built from (in build order) on this machine,
    where missing."""
    present = Engine().image_ids()
    for image in [*requires, target]:
        if image.ref in present:
            continue
        ok, lines = build_locally(image, host_name)
        if not ok:
            return False, image, lines
    return True, target, []


def context_tar(image: DesiredImage, destination: IO[bytes]) -> str:
    """Write the build context as a tar; return the Dockerfile's path inside it."""
    try:
        dockerfile = image.dockerfile.relative_to(image.context).as_posix()
    except ValueError:
        dockerfile = ".clusterdeploy.Dockerfile"
    with open_context(destination) as tar:
        for rel in context_files(image.context):
            tar.add(image.context / rel, arcname=rel, recursive=False)
        if dockerfile not in tar.getnames():  # excluded by .dockerignore, or outside the context
            tar.add(image.dockerfile, arcname=dockerfile)
    return dockerfile


def _chunks(stream: IO[bytes], progress: Progress | None = None, what: str = "",
            ) -> Iterator[bytes]:
    sent = 0
    while chunk := stream.read(CHUNK):
        yield chunk
        sent += len(chunk)
        if progress is not None:
            progress.update(f"send {what}: {sent / 1e6:.0f} MB ({elapsed(progress.seconds)})")
    if progress is not None:
        progress.done(f"sent {what}: {sent / 1e6:.0f} MB in {elapsed(progress.seconds)}")


def stream_into(host: Any, command: str, source: Iterator[bytes],
                on_line: Callable[[str], None] | None = None,
                on_idle: Callable[[], None] | None = None) -> tuple[int, list[str]]:
    """Run `command` on the host with `source` as its stdin, over pyinfra's SSH connection;
    (exit status, output lines: stdout and stderr together). The output is handed to
    `on_line` as it comes, and `on_idle` is called every second of silence."""
    connector = host.connector
    if not isinstance(connector, SSHConnector) or connector.client is None:
        raise OSError("images travel only over an SSH connection")
    transport = connector.client.get_transport()
    if transport is None:
        raise OSError("the SSH connection is closed")
    channel = transport.open_session()
    try:
        channel.set_combine_stderr(True)
        channel.exec_command(command)
        for chunk in source:
            channel.sendall(chunk)
        channel.shutdown_write()
        channel.settimeout(1.0)
        output, pending = bytearray(), b""
        while True:
            try:
                chunk = channel.recv(CHUNK)
            except TimeoutError:
                if on_idle is not None:
                    on_idle()
                continue
            if not chunk:
                break
            output += chunk
            *complete, pending = (pending + chunk).split(b"\n")
            if on_line is not None:
                for line in complete:
                    on_line(line.decode(errors="replace").rstrip("\r"))
        return channel.recv_exit_status(), output.decode(errors="replace").splitlines()
    finally:
        channel.close()


def _tail(lines: list[str]) -> str:
    return " ".join(lines[-3:]) or "no output"


def ship(host: Any, where: str, image: DesiredImage, requires: Sequence[DesiredImage],
         tag_latest: bool) -> tuple[bool, str]:
    """Build here if needed, then stream `docker save` into `docker load` there."""
    ok, failed, lines = ensure_local(image, requires, host.name)
    if not ok:
        return False, build_failure(failed, lines, where="this machine")
    save = subprocess.Popen(["docker", "save", "--", image.ref], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert save.stdout is not None and save.stderr is not None
    load = "docker load"
    if tag_latest:
        load += f" && {shlex.join(commands.tag_image(image.ref, image.latest))}"
    try:
        status, lines = stream_into(host, load, _chunks(
            save.stdout, Progress(host.name), f"{image.ref} to {where}"))
    except (paramiko.SSHException, OSError, EOFError) as exc:
        save.kill()
        return False, f"{where}: sending {image.ref} failed: {exc or type(exc).__name__}"
    finally:
        save.stdout.close()
    problem = save.stderr.read().decode(errors="replace").strip()
    save.stderr.close()
    if save.wait() != 0:
        return False, f"{where}: docker save {image.ref} failed here: {problem}"
    if status != 0:
        return False, f"{where}: loading {image.ref} failed: {_tail(lines)}"
    return True, ""


def build_remotely(host: Any, where: str, image: DesiredImage,
                   tag_latest: bool) -> tuple[bool, str]:
    """Stream the context into `docker build -` on the host."""
    with tempfile.TemporaryFile(prefix="clusterdeploy-context-") as archive:
        dockerfile = context_tar(image, archive)
        archive.seek(0)
        build = commands.build_shell(image, tag_latest=tag_latest, context="-",
                                     dockerfile=dockerfile)
        progress = BuildProgress(Progress(host.name), f"images.{image.key} ({image.ref})")
        try:
            status, lines = stream_into(host, build, _chunks(archive), progress.line,
                                        progress.tick)
        except (paramiko.SSHException, OSError, EOFError) as exc:
            progress.finish(False)
            return False, f"{where}: sending the build context of {image.ref} failed: " \
                          f"{exc or type(exc).__name__}"
    progress.finish(status == 0)
    return (True, "") if status == 0 else (False, build_failure(image, lines, where=where))

