"""The swarm's apply phases (a cluster over several hosts): init on the first host, join the
others, and (teardown, when asked) leave. Each host records the node ID it got, so a later
teardown knows which swarm membership clusterdeploy made and never leaves another."""

from __future__ import annotations

import shlex
from typing import Any

from pyinfra import host
from pyinfra import state as pyinfra_state
from pyinfra.api import FunctionCommand, StringCommand, operation

from ..core.swarm import SWARM_PORTS, InitSwarm, JoinSwarm, LeaveSwarm
from ..docker.errors import reason
from ..docker.swarm import (
    JOIN_TOKEN,
    init_command,
    join_command,
    leave_script,
    parse_join,
    record_script,
)
from .context import ApplyContext
from .operations import Commands
from .output import fail, info

JOIN_TIMEOUT = 60  # seconds: a join that cannot reach the manager's ports says so in time


def _record(host: Any, where: str, state_dir: str) -> bool:
    ok, output = host.run_shell_command(StringCommand("sh -s"), _stdin=record_script(state_dir))
    return True if ok else fail(host, f"{where}: joined the swarm but cannot record it in "
                                      f"{state_dir}: {reason(output.stderr)}")


def _run_init(state: Any, host: Any, action: InitSwarm, context: ApplyContext) -> bool:
    ok, output = host.run_shell_command(
        StringCommand(shlex.join(init_command(action.advertise, action.address_pool))))
    if not ok:
        hint = ("" if action.advertise else
                f" (set hosts: swarm_address of {action.host} to an address the others reach)")
        return fail(host, f"{action.host}: docker swarm init failed: "
                          f"{reason(output.stderr)}{hint}")
    info(host, f"{action.host}: initialised a swarm"
               f"{f' advertised on {action.advertise}' if action.advertise else ''}")
    return _record(host, action.host, context.state_dir)


def _manager_host(name: str) -> Any:
    """pyinfra's connection to the manager, the spec host the plan names."""
    return next((h for h in pyinfra_state.inventory
                 if getattr(h.data.get("cluster_host"), "name", None) == name), None)


def _run_join(state: Any, host: Any, action: JoinSwarm, context: ApplyContext) -> bool:
    manager = _manager_host(action.manager)
    if manager is None:
        return fail(host, f"{action.host}: cannot reach the swarm's manager {action.manager}")
    ok, output = manager.run_shell_command(StringCommand(shlex.join(JOIN_TOKEN)))
    found = parse_join(output.stdout) if ok else None
    if found is None:
        return fail(host, f"{action.host}: cannot read the join token on {action.manager}: "
                          f"{reason(output.stderr or output.stdout)}")
    token, address = found
    join = shlex.join(["timeout", str(JOIN_TIMEOUT),
                       *join_command(token, address, action.advertise)])
    ok, output = host.run_shell_command(StringCommand(join))
    if not ok:
        return fail(host, f"{action.host}: docker swarm join {address} failed: "
                          f"{reason(output.stderr) or 'no answer in time'} (the hosts must "
                          f"reach each other on {SWARM_PORTS}: open them in the firewalls "
                          f"between {action.manager} and {action.host})")
    info(host, f"{action.host}: joined the swarm of {action.manager} ({address})")
    return _record(host, action.host, context.state_dir)


@operation()
def init(actions: list[InitSwarm], context: ApplyContext) -> Commands:
    """`docker swarm init` on the first host, when none of the hosts is in a swarm."""
    if not actions:
        host.noop("no swarm to initialise")
        return
    for action in actions:
        yield FunctionCommand(_run_init, (action, context), {})


@operation()
def join(actions: list[JoinSwarm], context: ApplyContext) -> Commands:
    """`docker swarm join` as a worker, with the token read from the manager now."""
    if not actions:
        host.noop("in the swarm")
        return
    for action in actions:
        yield FunctionCommand(_run_join, (action, context), {})


@operation()
def leave(actions: list[LeaveSwarm], context: ApplyContext) -> Commands:
    """`docker swarm leave` (`--force` for the manager, last) and the record goes."""
    if not actions:
        host.noop("stays in the swarm")
        return
    for action in actions:
        force = action.kind == "leave-swarm-manager"
        yield StringCommand("sh -s", _stdin=leave_script(context.state_dir, force))
