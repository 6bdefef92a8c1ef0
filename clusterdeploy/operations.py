"""pyinfra operations that turn a plan into docker commands. No decisions are made here.

Each operation gets the actions of one phase; with none it calls `host.noop`. Commands that
need their output read (builds, parallel creates, the health wait) run as FunctionCommands on
the host's connector, so the same code works for the local engine and over SSH.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Sequence

import gevent
from pyinfra import host, logger
from pyinfra.api import FunctionCommand, StringCommand, operation

from . import commands, transport
from .desired import DesiredContainer, DesiredState
from .engine_errors import explain
from .images import DesiredImage
from .plan import Action, Kind
from .spec import Host

LOG_TAIL_LINES = 20


def _fail(host_, message: str) -> bool:
    for line in message.splitlines():
        host_.log_styled(line, fg="red", log_func=logger.error)
    return False


def _shell(command: Sequence[str] | str, **kwargs) -> StringCommand:
    text = command if isinstance(command, str) else shlex.join(command)
    return StringCommand(text, **kwargs)


def _run_build(state, host, image: DesiredImage, stream: bool) -> bool:
    ok, output = host.run_shell_command(StringCommand(commands.build_shell(image)),
                                        print_output=stream)
    return True if ok else _fail(host, transport.build_failure(image, output.output_lines))


def _run_ship(state, host, image: DesiredImage, chain: list[DesiredImage]) -> bool:
    ok, message = transport.ship(host, image, chain)
    return True if ok else _fail(host, f"{host.name}: {message}")


def _run_remote_build(state, host, image: DesiredImage) -> bool:
    ok, message = transport.build_remotely(host, image)
    return True if ok else _fail(host, message)


@operation()
def images(desired: DesiredState, actions: list[Action], how: str = "here",
           stream_builds: bool = False):
    """Make the images whose content hash the host lacks; point `<tag>:latest` at them.

    + desired: the desired state (its images, in build order)
    + actions: the plan's build and tag actions
    + how: "here" (build on the host itself: the local engine), "ship" (build on this machine,
      `docker save | docker load` over the connection) or "build" (upload the context, build
      on the host)
    """
    by_ref = {image.ref: image for image in desired.images}
    by_latest = {image.latest: image for image in desired.images}
    if not actions:
        host.noop("images are up to date")
        return
    for action in actions:
        if action.kind == Kind.BUILD and how == "ship":
            yield FunctionCommand(_run_ship, (by_ref[action.target], list(desired.build_chain)),
                                  {})
        elif action.kind == Kind.BUILD and how == "build":
            yield FunctionCommand(_run_remote_build, (by_ref[action.target],), {})
        elif action.kind == Kind.BUILD:
            yield FunctionCommand(_run_build, (by_ref[action.target], stream_builds), {})
        elif action.kind == Kind.TAG:
            image = by_latest[action.target]
            yield _shell(commands.tag_image(image.ref, image.latest))


def _run_parallel(state, host, units: list[tuple[str, list[list[str]]]], limit: int,
                  images_by_container: dict[str, str]) -> bool:
    script = commands.parallel_script(units, limit)
    ok, output = host.run_shell_command(StringCommand("bash -s"), _stdin=script)
    if ok:
        return True
    failures = commands.parse_failures(output.stdout)
    if not failures:
        return _fail(host, f"{host.name}: docker failed: {output.output[-2000:]}")
    return _fail(host, "\n".join(
        explain(host.name, name, text, images_by_container.get(name, ""))
        for name, text in sorted(failures.items())))


@operation()
def remove_containers(actions: list[Action], parallelism: int = 8, force: bool = False):
    """Stop and remove containers, in parallel.

    + actions: the containers to remove (remove and recreate actions)
    + force: kill at once (`docker rm --force`) instead of a graceful stop (SIGTERM, then
      SIGKILL after the container's own stop timeout)
    """
    if not actions:
        host.noop("nothing to remove")
        return
    graceful = [] if force else [commands.stop_container]
    units = [(a.target, [*(stop(a.target) for stop in graceful),
                         commands.remove_container(a.target)]) for a in actions]
    yield FunctionCommand(_run_parallel, (units, parallelism, {}), {})


@operation()
def network(desired: DesiredState | None, actions: list[Action], cluster: str):
    """Create the cluster's network (labelled), or remove one the spec no longer has."""
    if not actions:
        host.noop("network is up to date")
        return
    for action in actions:
        if action.kind == Kind.REMOVE_NETWORK:
            yield _shell(commands.remove_network(action.target))
        elif desired is not None:
            yield _shell(commands.create_network(desired.network, cluster))


@operation()
def files(desired: DesiredState | None, actions: list[Action]):
    """Write each container's rendered files into its directory on the Docker host."""
    writes = {a.target for a in actions if a.kind == Kind.WRITE_FILE}
    removes = [a.target for a in actions if a.kind == Kind.REMOVE_FILES]
    if not writes and not removes:
        host.noop("rendered files are up to date")
        return
    script = []
    for container in desired.containers if desired else ():
        changed = [f for f in container.files
                   if f"{container.files_host_dir}/{f.path}" in writes]
        if changed:
            script.append(commands.write_files(container.files_host_dir, changed))
    script += [f"rm -rf -- {shlex.quote(d)}" for d in removes]
    yield StringCommand("sh -s", _stdin="set -e\n" + "\n".join(script))


@operation()
def containers(desired: DesiredState, actions: list[Action], cluster: str, parallelism: int = 8):
    """Create and start missing or changed containers, start stopped ones, in parallel."""
    if not actions:
        host.noop("containers are up to date")
        return
    units = []
    for action in actions:
        container = desired.container(action.target)
        if action.kind == Kind.START:
            units.append((container.name, [commands.start_container(container.name)]))
        else:
            units.append((container.name, [commands.create_container(container, cluster),
                                           commands.start_container(container.name)]))
    images_by_container = {c.name: c.image for c in desired.containers}
    yield FunctionCommand(_run_parallel, (units, parallelism, images_by_container), {})


_STATUS_FORMAT = ("{{.Name}}\t{{.State.Status}}\t{{if .State.Health}}{{.State.Health.Status}}"
                  "{{end}}\t{{.State.ExitCode}}")


def _wait_healthy(state, host, targets: list[DesiredContainer], poll: float) -> bool:
    names = [c.name for c in targets]
    deadline = time.monotonic() + max(c.ready_timeout for c in targets)
    command = shlex.join(["docker", "inspect", "--format", _STATUS_FORMAT, *names])
    while True:
        _, output = host.run_shell_command(StringCommand(command))
        rows = {}
        for line in output.stdout_lines:
            name, status, health, code = [*line.split("\t"), "", "", ""][:4]
            rows[name.lstrip("/")] = (status, health, code)
        # Exited or gone fails at once; unhealthy may still recover (a loaded machine makes
        # checks time out), so it waits like "starting" until the deadline.
        failed = [n for n in names if rows.get(n, ("missing",))[0] not in ("running", "created")]
        pending = [n for n in names if n not in failed and
                   (rows[n][0] != "running" or rows[n][1] not in ("", "healthy"))]
        if not failed and not pending:
            return True
        if failed or time.monotonic() > deadline:
            return _fail(host, "\n".join(_describe_unready(host, n, rows.get(n))
                                         for n in failed + pending))
        gevent.sleep(poll)


def _describe_unready(host, name: str, row: tuple[str, ...] | None) -> str:
    status, health, code = row if row else ("missing", "", "")
    _, output = host.run_shell_command(
        StringCommand(shlex.join(["docker", "logs", "--tail", str(LOG_TAIL_LINES), name])))
    lines = "\n".join("    " + line for line in output.output_lines[-LOG_TAIL_LINES:])
    health_text = f", health {health}" if health else ""
    return (f"{host.name}: {name} is not ready: state {status}{health_text}, exit code {code}\n"
            f"  last {LOG_TAIL_LINES} log lines:\n{lines or '    (no output)'}")


def _collect(state, host, cluster: str, logs_dir: str, cluster_host: Host | None) -> bool:
    from pathlib import Path

    from .engine import client_for
    from .logs import collect_logs

    run_dir = collect_logs(client_for(cluster_host), cluster, Path(logs_dir))
    if run_dir:
        host.log_styled(f"logs collected in {run_dir}", log_func=logger.info)
    return True


@operation()
def collect_logs(cluster: str, logs_dir: str, containers: int, cluster_host: Host | None = None):
    """Collect every cluster container's logs to this machine (docker-test/logs/<UTC time>/),
    from the local engine or, for an SSH host, over SSH."""
    if not containers:
        host.noop("no containers, no logs")
        return
    yield FunctionCommand(_collect, (cluster, logs_dir, cluster_host), {})


@operation()
def wait_healthy(desired: DesiredState, actions: list[Action], poll: float = 0.25):
    """Wait until every node passes its health check and the tester runs.

    A node that does not within its `ready_timeout` fails the deploy with its state, exit code
    and last log lines.
    """
    if not actions:
        host.noop("every container is healthy")
        return
    yield FunctionCommand(_wait_healthy, (list(desired.containers), poll), {})
