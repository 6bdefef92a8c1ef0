"""Applying and healing faults on one Docker host, through its Engine (local or over SSH).

Every change is two host scripts at most: one reads the containers' state and the journal, one
journals, changes and logs (faults/scripts.py `host_script`). A network change renders each
node it touches whole, from every active fault (faults/rules.py), so applying and healing are
the same operation; a failed apply is rolled back the same way. The caller holds the cluster
lock (docker/lock.py).
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..clusterspec import Member, Spec
from ..clusterspec.faults import DELAY, KILL, PAUSE, STOP
from ..core.desired import faults_dir
from ..docker.engine import Engine
from ..errors import DeployError, on_host
from . import journal, scripts
from .image import ensure_helper
from .journal import JournalEntry, rfc3339_now
from .model import Fault
from .rules import chain_rules, shapes, touched

INSPECT = "{{.Name}}\t{{.Id}}\t{{.State.Status}}\t{{.State.StartedAt}}"
SPLIT = "@@clusterdeploy:journal"
LIVE = ("running", "paused")  # a network namespace a helper can join


@dataclass(frozen=True)
class Container:
    name: str
    status: str  # running, paused, exited, ... or "missing"
    started: str


def explain(node: str, container: str, output: str) -> str:
    """Why a unit failed, as one line naming the node."""
    text = scripts.unit_error(output)
    if "non running container" in text or "is not running" in text:
        return f"{node} ({container}) is not running: it has no network to fault (start it)"
    if "No such container" in text:
        return f"{node} has no container {container} (deploy the cluster first)"
    if "No such image" in text or "Unable to find image" in text:
        return f"{node}: the fault helper image is missing on the host ({text})"
    return f"{node} ({container}): {text}"


class FaultExecutor:
    """Faults of one cluster on one host: `apply`, `heal`, `resync`, `entries`."""

    def __init__(self, engine: Engine, spec: Spec, state_dir: str, *, by: str = "",
                 run: str | None = None, say: Callable[[str], None] = lambda text: None,
                 ) -> None:
        self.engine, self.spec, self.by, self.run, self.say = engine, spec, by, run, say
        self.directory = faults_dir(spec.name, state_dir)
        self.members = {m.name: m for m in spec.members}  # one host per cluster, for now
        self._helper: str | None = None

    # --- reading ---------------------------------------------------------------------------

    def state(self) -> tuple[dict[str, Container], list[JournalEntry], list[str]]:
        """The cluster's containers (by container name), the journal, its unreadable lines."""
        names = [m.container_name for m in self.members.values()]
        script = (f"docker inspect --format {shlex.quote(INSPECT)} -- {shlex.join(names)} "
                  f"2>/dev/null; echo {SPLIT}; {journal.read_script(self.directory)}")
        result = self.engine.run_script(script)
        head, _, tail = result.stdout.partition(SPLIT)
        if not _ and result.status != 0:
            raise DeployError(on_host(self.engine.name, f"cannot read the cluster's state: "
                                                        f"{result.stderr.strip()}"))
        found = {n: Container(n, "missing", "") for n in names}
        for line in head.splitlines():
            parts = line.split("\t")
            if len(parts) == 4:
                name = parts[0].lstrip("/")
                found[name] = Container(name, parts[2], parts[3])
        entries, unreadable = journal.parse_entries(tail)
        return found, entries, unreadable

    def entries(self) -> list[JournalEntry]:
        return self.state()[1]

    # --- applying --------------------------------------------------------------------------

    def apply(self, fault: Fault) -> str:
        """Journal, apply and log `fault`; the time it was in place. DeployError (and nothing
        left changed) when it cannot be applied."""
        containers, entries, _ = self.state()
        targets = [self.members[n] for n in fault.targets]
        self._check(fault, targets, containers, entries)
        helper = self.helper() if fault.is_network else ""
        if fault.kind == DELAY:
            self.preflight_delay(helper)
        entry = JournalEntry(
            fault, rfc3339_now(), self.engine.name, self.by, helper,
            containers={m.name: m.container_name for m in targets},
            addresses={m.name: m.address for m in targets},
            started={m.container_name: containers[m.container_name].started for m in targets},
            run=self.run)
        active = [e.fault for e in entries] + [fault]
        commands = [scripts.Unit(f"{fault.kind}-{m.container_name}",
                                 argv=_process_argv(fault.kind, m.container_name))
                    for m in targets if not fault.is_network]
        outcome = self._change(journal.write_lines(self.directory, entry), commands,
                               self._renders(touched(fault), active, containers, entries),
                               journal.nemesis_lines(self.directory, "start", [fault]))
        if not outcome.ok:
            if scripts.UNIT not in outcome.text:  # the journal could not be written
                raise DeployError(on_host(self.engine.name, outcome.text.strip()))
            problems = self._problems(outcome)
            try:  # what did apply comes off again; the entry goes once nothing holds it
                self.heal([fault.id], log=False)
            except DeployError as exc:
                problems.append(f"undoing it failed too, so the journal keeps it (`clusterdeploy "
                                f"fault heal` retries): {exc}")
            raise DeployError("\n".join(on_host(self.engine.name, f"{fault.id} not applied: "
                                                                  f"{p}") for p in problems))
        return outcome.time

    def _check(self, fault: Fault, targets: list[Member], containers: dict[str, Container],
               entries: list[JournalEntry]) -> None:
        problems, asleep = [], []
        for member in targets:
            state = containers[member.container_name].status
            if state == "missing":
                problems.append(f"{member.name} has no container {member.container_name} "
                                f"(deploy the cluster first)")
            elif fault.kind == PAUSE and state != "running":
                problems.append(f"{member.name} ({member.container_name}) is {state}: only a "
                                f"running container can be paused")
            elif state not in LIVE and not fault.is_network:
                problems.append(f"{member.name} ({member.container_name}) is {state}: "
                                f"{fault.kind} needs it running (clusterdeploy deploy starts it)")
            elif state not in LIVE:
                asleep.append(member.name)
        if asleep and not problems:
            if len(asleep) == len(targets):
                problems.append(f"none of {', '.join(asleep)} is running: {fault.kind} has no "
                                f"network to act on")
            else:
                self.say(f"{self.engine.name}: {', '.join(asleep)} not running: {fault.id} "
                         f"acts on it once it runs again (any fault command re-applies it)")
        if any(e.id == fault.id for e in entries):
            problems.append(f"a fault {fault.id} is active already")
        if problems:
            raise DeployError("\n".join(on_host(self.engine.name, p) for p in problems))

    def helper(self) -> str:
        if self._helper is None:
            began = time.monotonic()
            self._helper, how = ensure_helper(self.engine, self.spec.faults.helper_image)
            if how:
                self.say(f"{self.engine.name}: fault helper image {self._helper} {how} "
                         f"({time.monotonic() - began:.0f} s)")
        return self._helper

    def preflight_delay(self, helper: str) -> None:
        """Fail with one line when the host's kernel has no netem (what delay needs)."""
        argv = scripts.helper_argv(helper, self.spec.name, "none")
        result = self.engine.run_script(
            f"printf %s {shlex.quote(scripts.preflight_script())} | {shlex.join(argv)} 2>&1")
        if result.status == 0:
            return
        reason = scripts.unit_error(result.stdout)
        if "unknown" in reason or "netem" in reason:
            kernel = reason.split(":")[0].removeprefix("netem").strip() or "?"
            raise DeployError(on_host(self.engine.name, (
                f"delay needs the kernel's netem qdisc (sch_netem), which this Docker host's "
                f"kernel {kernel} does not have: tc says \"Error: Specified qdisc kind is "
                f"unknown.\" (load it on the host: modprobe sch_netem; or use a kernel built "
                f"with CONFIG_NET_SCH_NETEM)")))
        raise DeployError(on_host(self.engine.name, f"checking for netem failed: {reason}"))

    # --- healing ---------------------------------------------------------------------------

    def heal(self, ids: Sequence[str] | None = None, sweep: bool = False, log: bool = True,
             ) -> tuple[list[JournalEntry], str]:
        """Heal the faults `ids` (all journaled ones when None); with `sweep`, also clean every
        running container of the cluster and unpause every paused one, journal or not.
        Returns what was healed and when; the journal keeps what could not be. Without `log`
        (undoing a fault that never started) no nemesis line is written."""
        containers, entries, unreadable = self.state()
        known = {e.id for e in entries}
        unknown = [i for i in (ids or []) if i not in known]
        if unknown:
            raise DeployError(on_host(self.engine.name, (
                f"no active fault {', '.join(unknown)} (`clusterdeploy fault list` shows them)")))
        chosen = [e for e in entries if ids is None or e.id in ids]
        remaining = [e for e in entries if e not in chosen]
        commands: dict[str, scripts.Unit] = {}
        for entry in chosen:
            for container in entry.containers.values():
                state = containers.get(container, Container(container, "missing", "")).status
                if entry.fault.kind == PAUSE and state == "paused":
                    commands[container] = scripts.Unit(f"unpause-{container}", argv=(
                        "docker", "unpause", "--", container))
                elif entry.fault.kind in (KILL, STOP) and state in ("exited", "created"):
                    commands[container] = scripts.Unit(f"start-{container}", argv=(
                        "docker", "start", "--", container))
        if sweep:
            commands.update({c.name: scripts.Unit(f"unpause-{c.name}", argv=(
                "docker", "unpause", "--", c.name)) for c in containers.values()
                if c.status == "paused"})
        nodes = {n for e in chosen for n in touched(e.fault)}
        if sweep or unreadable:
            nodes |= set(self.members)
        renders = self._renders(sorted(nodes), [e.fault for e in remaining], containers,
                                entries, sweep=sweep or bool(unreadable))
        if not chosen and not commands and not renders and not unreadable:
            return [], ""
        outcome = self._change(
            [], list(commands.values()), renders,
            [*journal.nemesis_lines(self.directory, "end", [e.fault for e in chosen] if log
                                    else []),
             *journal.remove_lines(self.directory, [e.id for e in chosen]),
             *(["rm -f -- " + shlex.quote(self.directory) + "/*.json"] if unreadable else [])])
        if not outcome.ok:
            raise DeployError("\n".join(on_host(self.engine.name, f"heal failed: {p} (the "
                                                                  f"journal keeps the fault)")
                                        for p in self._problems(outcome)))
        if any(u.argv[1] == "start" for u in commands.values()) and remaining:
            self.resync()
        return chosen, outcome.time

    def resync(self) -> list[str]:
        """Render again the nodes started since a fault was applied to them (a new namespace
        has none of its rules); what was done, one line each."""
        containers, entries, _ = self.state()
        started = {c.name: c.started for c in containers.values()}
        lost = {n: e for e in entries if e.fault.is_network for n in e.restarted(started)}
        live = sorted(n for n in lost
                      if containers[self.members[n].container_name].status in LIVE)
        if not live:
            return []
        refreshed = [e.with_started(started) for e in entries if set(e.restarted(started))
                     & set(live)]
        outcome = self._change([line for e in refreshed
                                for line in journal.write_lines(self.directory, e)], [],
                               self._renders(live, [e.fault for e in entries], containers,
                                             entries), [])
        if not outcome.ok:
            raise DeployError("\n".join(on_host(self.engine.name, f"re-applying faults "
                                                                  f"failed: {p}")
                                        for p in self._problems(outcome)))
        return [f"{n} was restarted since {lost[n].id} was applied: its faults are "
                f"re-applied" for n in live]

    # --- the host script ---------------------------------------------------------------------

    def _renders(self, nodes: Sequence[str], active: Sequence[Fault],
                 containers: dict[str, Container], entries: list[JournalEntry],
                 sweep: bool = False) -> list[scripts.Unit]:
        """A helper unit per node (that has a namespace) with its whole fault state."""
        addresses = {m.name: m.address for m in self.members.values()}
        for entry in entries:
            addresses.update(entry.addresses)
        units = []
        for node in nodes:
            member = self.members.get(node)
            if member is None or containers[member.container_name].status not in LIVE:
                continue
            mine = [f for f in active if node in touched(f)]
            script = (scripts.sweep_script() if sweep and not mine else scripts.node_script(
                addresses[node], chain_rules(node, mine, addresses),
                shapes(node, mine, addresses)))
            units.append(scripts.Unit(f"node-{node}", member.container_name, script))
        return units

    def _change(self, before: list[str], commands: list[scripts.Unit],
                helpers: list[scripts.Unit], after: list[str]) -> scripts.Outcome:
        helper = self.helper() if helpers else ""
        script = scripts.host_script(self.spec.name, helper, before=before, commands=commands,
                                     helpers=helpers, after=after)
        result = self.engine.run_script(script)
        return scripts.parse_outcome(result.stdout + result.stderr)

    def _problems(self, outcome: scripts.Outcome) -> list[str]:
        by_container = {m.container_name: m.name for m in self.members.values()}
        problems = []
        for key, (status, output) in outcome.units.items():
            if status == 0:
                continue
            kind, _, target = key.partition("-")
            if kind == "node":
                member = self.members[target]
                problems.append(explain(target, member.container_name, output))
            else:
                node = by_container.get(target, target)
                problems.append(f"{node}: docker {kind} failed: {scripts.unit_error(output)}")
        return problems or [outcome.text.strip().splitlines()[-1] if outcome.text.strip()
                            else "the host script failed"]


def _process_argv(kind: str, container: str) -> tuple[str, ...]:
    if kind == PAUSE:
        return ("docker", "pause", "--", container)
    if kind == KILL:
        return ("docker", "kill", "--signal", "KILL", "--", container)
    return ("docker", "stop", "--", container)
