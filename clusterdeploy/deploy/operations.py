"""pyinfra operations, one per apply phase: each turns its actions into commands.

No decisions and no lookups here: an action carries what it acts on, and the plan has decided
everything. With no actions an operation calls `host.noop`. Commands whose output must be read
(builds, parallel creates, the health wait, log collection) run as FunctionCommands on the
host's connector, so the same code serves the local engine and SSH hosts.
"""

from __future__ import annotations

import posixpath
import secrets
import shlex
from collections.abc import Generator, Sequence
from typing import Any

from pyinfra import host
from pyinfra.api import FunctionCommand, StringCommand, operation

from ..core.actions import (
    Build,
    CollectLogs,
    Create,
    CreateNetwork,
    CreateVolume,
    HealFaults,
    Kill,
    Recreate,
    Remove,
    RemoveFiles,
    RemoveNetwork,
    RemoveVolume,
    Start,
    Stop,
    Tag,
    WriteFile,
)
from ..core.ownership import marker
from ..docker import commands
from ..docker.errors import build_failure, explain
from ..docker.parallel import parallel_script, parse_failures
from .context import ApplyContext
from .output import fail

Commands = Generator[StringCommand | FunctionCommand, None, None]


def _shell(command: Sequence[str]) -> StringCommand:
    return StringCommand(shlex.join(command))


def _run_build(state: Any, host: Any, action: Build, stream: bool) -> bool:
    build = commands.build_shell(action.image, tag_latest=action.tag_latest)
    if stream:  # the whole output, live
        ok, output = host.run_shell_command(StringCommand(build), print_output=True)
        return True if ok else fail(host, build_failure(action.image, output.output_lines))
    from .progress import BuildProgress, Progress, run_streaming  # builds only (see _run_collect)

    # "here" is this machine: read the build as it goes, one progress line per image
    progress = BuildProgress(Progress(host.name), f"images.{action.image.key} "
                                                  f"({action.image.ref})")
    status, lines = run_streaming(build, progress.line, progress.tick)
    progress.finish(status == 0)
    return True if status == 0 else fail(host, build_failure(action.image, lines))


def _run_ship(state: Any, host: Any, action: Build, where: str) -> bool:
    from . import transport  # remote hosts only (see _run_collect)

    ok, message = transport.ship(host, where, action.image, action.requires, action.tag_latest)
    return True if ok else fail(host, message)


def _run_remote_build(state: Any, host: Any, action: Build, where: str) -> bool:
    from . import transport  # remote hosts only (see _run_collect)

    ok, message = transport.build_remotely(host, where, action.image, action.tag_latest)
    return True if ok else fail(host, message)


@operation()
def images(actions: list[Build | Tag], context: ApplyContext) -> Commands:
    """Make the images whose content hash the host lacks; point `<tag>:latest` at them.

    + actions: build and tag actions
    + context.how: "here" (build on the host itself: the local engine), "ship" (build on this
      machine, `docker save | docker load` over the connection) or "build" (upload the
      context, build on the host)
    """
    if not actions:
        host.noop("no image to build or tag")
        return
    for action in actions:
        if isinstance(action, Tag):
            yield _shell(commands.tag_image(action.image.ref, action.image.latest))
        elif context.how == "ship":
            yield FunctionCommand(_run_ship, (action, context.host.name), {})
        elif context.how == "build":
            yield FunctionCommand(_run_remote_build, (action, context.host.name), {})
        else:
            yield FunctionCommand(_run_build, (action, context.stream_builds), {})


def _run_heal(state: Any, host: Any, action: HealFaults, where: str) -> bool:
    from ..faults import sweep  # only with faults to heal (see _run_collect)

    ok, output = host.run_shell_command(StringCommand("sh -s"), _stdin=sweep.heal_script(action))
    text = "\n".join(output.stdout_lines)
    if ok and "@@clusterdeploy:done 1" in text:
        return True
    problems = sweep.failures(text) or [output.output[-500:] or "the heal script failed"]
    return fail(host, "\n".join(f"{where}: cannot heal faults: {p} (the journal keeps them; "
                                 f"`clusterdeploy fault heal --all` retries)" for p in problems))


@operation()
def heal_faults(actions: list[HealFaults], context: ApplyContext) -> Commands:
    """End every fault of the journal before containers change: clean the namespaces it names
    (clusterdeploy's chain and qdiscs), unpause paused containers, log the ends, remove the
    entries."""
    if not actions:
        host.noop("no fault to heal")
        return
    for action in actions:
        yield FunctionCommand(_run_heal, (action, context.host.name), {})


@operation()
def collect_logs(actions: list[CollectLogs], context: ApplyContext) -> Commands:
    """Copy containers' logs to this machine (`<logs dir>/<UTC time>/`) before they go."""
    if not actions:
        host.noop("no logs to collect")
        return
    for action in actions:
        yield FunctionCommand(_run_collect, (action, context), {})


def _run_collect(state: Any, host: Any, action: CollectLogs, context: ApplyContext) -> bool:
    """Imported when used, like the other work only some runs do (builds, shipping, healing):
    the log collection and its report cost ~0.07 s to import, which a deploy seldom needs."""
    from .logs import collect

    return collect(state, host, action, context)


@operation()
def stop(actions: list[Stop | Kill], context: ApplyContext) -> Commands:
    """Stop containers gracefully (SIGTERM, then SIGKILL after each one's own grace period),
    or kill them, all at once (the docker CLI acts on a list concurrently)."""
    if not actions:
        host.noop("nothing to stop")
        return
    stopped = [a.container.id for a in actions if isinstance(a, Stop)]
    killed = [a.container.id for a in actions if isinstance(a, Kill)]
    if stopped:
        yield _shell(commands.stop_containers(stopped))
    if killed:
        yield _shell(commands.kill_containers(killed))


@operation()
def remove(actions: list[Remove], context: ApplyContext) -> Commands:
    """Remove containers, each stopped gracefully first if it still runs."""
    if not actions:
        host.noop("nothing to remove")
        return
    ids = [a.container.id for a in actions]
    yield _shell(commands.stop_containers(ids))
    yield _shell(commands.remove_containers(ids))
    if context.spans_hosts and context.containers_follow:  # on an overlay, see settle_overlay
        yield _shell(commands.settle_overlay(context.cluster))


@operation()
def network(actions: list[RemoveNetwork | CreateNetwork], context: ApplyContext) -> Commands:
    """Remove networks (detaching the cluster's containers still on them), create the
    cluster's network, labelled."""
    if not actions:
        host.noop("no network to create or remove")
        return
    for action in actions:
        if isinstance(action, RemoveNetwork):
            for name in action.detach:
                yield _shell(commands.disconnect(action.network.name, name))
            yield _shell(commands.remove_network(action.network.name))
        else:
            yield _shell(commands.create_network(action.network, context.cluster))


@operation()
def volumes(actions: list[CreateVolume | RemoveVolume], context: ApplyContext) -> Commands:
    """Create the nodes' data volumes (labelled) before their containers; remove those a
    teardown or the spec lets go."""
    if not actions:
        host.noop("no volume to create or remove")
        return
    for action in actions:
        if isinstance(action, CreateVolume):
            yield _shell(commands.create_volume(action.volume, context.cluster))
        else:
            yield _shell(commands.remove_volume(action.volume.name))


@operation()
def files(actions: list[WriteFile | RemoveFiles], context: ApplyContext) -> Commands:
    """Write each container's rendered files into its directory on the Docker host; remove
    the directories of containers that are gone."""
    if not actions:
        host.noop("no rendered file to write or remove")
        return
    by_directory: dict[str, list[Any]] = {}
    for action in actions:
        if isinstance(action, WriteFile):
            by_directory.setdefault(action.container.files_host_dir, []).append(action.file)
    root = posixpath.dirname(next(iter(by_directory), "/"))
    script = [commands.write_files(root, marker(context.cluster), directory, written)
              for directory, written in by_directory.items()]
    script += [f"rm -rf -- {shlex.quote(a.directory)}" for a in actions
               if isinstance(a, RemoveFiles)]
    yield StringCommand("sh -s", _stdin="set -e\n" + "\n".join(script))


def _run_parallel(state: Any, host: Any, units: list[tuple[str, list[list[str]]]], limit: int,
                  images_by_container: dict[str, str], where: str,
                  private: tuple[str, dict[str, bytes]] | None = None,
                  first_alone: bool = False) -> bool:
    script = parallel_script(units, limit, private, first_alone)
    ok, output = host.run_shell_command(StringCommand("bash -s"), _stdin=script)
    if ok:
        return True
    failures = parse_failures(output.stdout)
    if not failures:
        return fail(host, f"{where}: docker failed: {output.output[-2000:]}")
    return fail(host, "\n".join(
        explain(where, name, text, images_by_container.get(name, ""))
        for name, text in sorted(failures.items())))


def container_units(actions: Sequence[Create | Recreate | Start], cluster: str, private: str,
                    overlay: bool = False) -> list[tuple[str, list[list[str]]]]:
    """Each action's docker commands, run in order as one unit; environments are read from
    `<private>/<container>.env`.

    On an overlay (`overlay`), units that add a container come before those that replace one,
    and a replacement waits if it left the host with no container on the network (see
    `commands.settle_overlay`)."""
    if overlay:
        actions = sorted(actions, key=lambda a: isinstance(a, Recreate))  # stable
    units = []
    for action in actions:
        name = action.container.name
        if isinstance(action, Start):
            units.append((name, [commands.start_container(name)]))
            continue
        replace = ([commands.stop_containers([action.old.id]),
                    commands.remove_containers([action.old.id]),
                    *([commands.settle_overlay(cluster)] if overlay else [])]
                   if isinstance(action, Recreate) else [])
        env = posixpath.join(private, f"{name}.env")
        units.append((name, [*replace, commands.create_container(action.container, cluster, env),
                             commands.start_container(name)]))
    return units


@operation()
def containers(actions: list[Create | Recreate | Start], context: ApplyContext) -> Commands:
    """Create, recreate and start containers, at most `context.parallelism` at once."""
    if not actions:
        host.noop("no container to create or start")
        return
    images_by_container = {a.container.name: a.container.image for a in actions}
    private = f"/tmp/clusterdeploy-{secrets.token_hex(16)}"  # made exclusively by the script
    environments = {f"{a.container.name}.env": commands.env_file(a.container.environment)
                    for a in actions if not isinstance(a, Start) and a.container.environment}
    units = container_units(actions, context.cluster, private, context.spans_hosts)
    yield FunctionCommand(_run_parallel, (units, context.parallelism, images_by_container,
                                          context.host.name, (private, environments),
                                          context.spans_hosts), {})
