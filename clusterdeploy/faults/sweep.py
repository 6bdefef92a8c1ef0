"""The heal a deploy runs (core.actions.HealFaults): every fault of the journal ends, whatever
it was, by cleaning the namespaces it names and unpausing paused containers; no rendering,
so it needs nothing but the journal and the helper image."""

from __future__ import annotations

import contextlib
import shlex

from ..core.actions import HealFaults
from . import journal, scripts
from .journal import JournalEntry


def heal_script(action: HealFaults) -> str:
    """The host script of a HealFaults action; `unit_error` reads its failures."""
    entries = []
    for observed in action.faults:
        with contextlib.suppress(ValueError, KeyError, TypeError, AttributeError):
            entries.append(JournalEntry.parse(observed.record))
    unreadable = len(entries) < len(action.faults)
    commands = [scripts.Unit(f"unpause-{c}", argv=("docker", "unpause", "--", c))
                for c in action.unpause]
    helpers = [scripts.Unit(f"sweep-{c}", c, scripts.sweep_script()) for c in action.sweep]
    after = [*journal.nemesis_lines(action.directory, "end", [e.fault for e in entries]),
             *journal.remove_lines(action.directory, [e.id for e in entries])]
    if unreadable:
        after.append(f"rm -f -- {shlex.quote(action.directory)}/*.json")
    return scripts.host_script(action.cluster, action.helper, commands=commands,
                               helpers=helpers, after=after)


def failures(output: str) -> list[str]:
    """`container: why` for each unit of a heal script that failed."""
    outcome = scripts.parse_outcome(output)
    return [f"{key.partition('-')[2]}: {key.partition('-')[0]} failed: "
            f"{scripts.unit_error(text)}"
            for key, (status, text) in outcome.units.items() if status != 0]
