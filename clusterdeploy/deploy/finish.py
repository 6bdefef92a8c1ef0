"""The operations after the containers start: the health wait, the bootstrap, the host's
/etc/hosts block (the last three apply phases)."""

from __future__ import annotations

import shlex
from typing import Any

from pyinfra import host
from pyinfra.api import FunctionCommand, StringCommand, operation

from ..core.actions import Bootstrap, RemoveHosts, Wait, WriteHosts
from ..docker import commands
from .context import ApplyContext
from .operations import Commands
from .output import fail, info
from .waiting import LOG_TAIL_LINES, wait_healthy


@operation()
def wait(actions: list[Wait], context: ApplyContext) -> Commands:
    """Wait until the action's containers pass their health checks (or run, without one).

    A container that does not within its `ready_timeout` fails the deploy with its state,
    exit code and last log lines.
    """
    if not actions:
        host.noop("nothing to wait for")
        return
    for action in actions:
        yield FunctionCommand(wait_healthy, (action.containers, context.poll,
                                             context.host.name), {})


def _run_bootstrap(state: Any, host: Any, action: Bootstrap, context: ApplyContext) -> bool:
    boot = action.bootstrap
    ok, output = host.run_shell_command(
        StringCommand(shlex.join(commands.exec_command(boot.container, boot.command))))
    lines = output.output_lines
    for line in lines:
        info(host, f"  {boot.container}: {line}")
    from .logs import save_output  # imported when used (operations._run_collect)

    kept = save_output(context.logs_dir, "bootstrap", "bootstrap.log", lines)
    if not ok:
        tail = "\n".join(f"    {line}" for line in lines[-LOG_TAIL_LINES:]) or "    (no output)"
        return fail(host, f"{context.host.name}: the bootstrap in {boot.container} failed "
                          f"(its output: {kept})\n  last lines:\n{tail}")
    record = commands.write_record(boot.record_path, boot.record)
    ok, _ = host.run_shell_command(StringCommand("sh -s"), _stdin=record)
    return True if ok else fail(host, f"{context.host.name}: cannot record the bootstrap in "
                                      f"{boot.record_path}")


@operation()
def bootstrap(actions: list[Bootstrap], context: ApplyContext) -> Commands:
    """Run the cluster's bootstrap command (once the nodes are healthy) and record it, so a
    redeploy with nothing new does not run it again."""
    if not actions:
        host.noop("no bootstrap due")
        return
    for action in actions:
        yield FunctionCommand(_run_bootstrap, (action, context), {})


@operation()
def host_names(actions: list[WriteHosts | RemoveHosts], context: ApplyContext) -> Commands:
    """Keep the cluster's block in the Docker host's /etc/hosts; no other line is touched."""
    if not actions:
        host.noop("no /etc/hosts change")
        return
    for action in actions:
        block = action.block if isinstance(action, WriteHosts) else None
        yield StringCommand("sh -s", _stdin=commands.hosts_script(action.cluster, block))
