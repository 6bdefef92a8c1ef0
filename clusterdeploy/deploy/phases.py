"""The apply phases, in order: which pyinfra operation executes which action kinds.

Deploy and teardown are the same loop over different plans. Every action kind is executed by
exactly one phase (a unit test holds the table to that), so an action the planner emits can
never go unexecuted, and no operation decides anything the plan did not say.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..core.actions import Action, Kind
from . import finish, operations, swarmops
from .context import ApplyContext


@dataclass(frozen=True)
class Phase:
    title: str
    operation: Callable[..., Any]
    kinds: frozenset[Kind]
    spread_only: bool = False  # only a cluster over several hosts has these actions


PHASES: tuple[Phase, ...] = (
    Phase("Swarm", swarmops.init, frozenset({Kind.INIT_SWARM}), spread_only=True),
    Phase("Swarm join", swarmops.join, frozenset({Kind.JOIN_SWARM}), spread_only=True),
    Phase("Images", operations.images, frozenset({Kind.BUILD, Kind.TAG})),
    Phase("Heal faults", operations.heal_faults, frozenset({Kind.HEAL_FAULTS})),
    Phase("Collect logs", operations.collect_logs, frozenset({Kind.COLLECT_LOGS})),
    Phase("Stop containers", operations.stop, frozenset({Kind.STOP, Kind.KILL})),
    Phase("Remove containers", operations.remove, frozenset({Kind.REMOVE})),
    Phase("Network", operations.network, frozenset({Kind.REMOVE_NETWORK, Kind.CREATE_NETWORK})),
    Phase("Volumes", operations.volumes,
          frozenset({Kind.CREATE_VOLUME, Kind.REMOVE_VOLUME})),
    Phase("Rendered files", operations.files, frozenset({Kind.WRITE_FILE, Kind.REMOVE_FILES})),
    Phase("Containers", operations.containers,
          frozenset({Kind.CREATE, Kind.RECREATE, Kind.START})),
    Phase("Wait until healthy", finish.wait, frozenset({Kind.WAIT})),
    Phase("Bootstrap", finish.bootstrap, frozenset({Kind.BOOTSTRAP})),
    Phase("Host names", finish.host_names,
          frozenset({Kind.WRITE_HOSTS, Kind.REMOVE_HOSTS})),
    Phase("Leave swarm", swarmops.leave, frozenset({Kind.LEAVE_SWARM}), spread_only=True),
    Phase("Leave swarm (manager)", swarmops.leave, frozenset({Kind.LEAVE_SWARM_MANAGER}),
          spread_only=True),
)


def apply(actions: Sequence[Action], context: ApplyContext) -> None:
    """Hand each phase's actions, in plan order, to its operation. Every host of a cluster
    over several hosts runs every phase (pyinfra runs a phase on all hosts before the next);
    one host runs only the phases that have actions: each pyinfra operation costs ~10 ms of
    CPU even as a no-op (pyinfra inspects the call stack to order it)."""
    context = replace(context, containers_follow=any(
        a.kind in (Kind.CREATE, Kind.RECREATE, Kind.START) for a in actions))
    for phase in PHASES:
        if phase.spread_only and not context.spans_hosts:
            continue
        mine = [a for a in actions if a.kind in phase.kinds]
        if mine or context.spans_hosts:
            phase.operation(name=f"{phase.title} ({context.cluster})", actions=mine,
                            context=context)
