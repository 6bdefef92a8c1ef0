"""A run's faults: the spec's schedule, applied and healed on time while the suite runs.

`Nemesis.prepare` draws the concrete schedule from the seed and readies the helper image (and
checks for netem when a delay is scheduled) before the suite starts; `start` runs it in a
thread; `finish` stops it and heals everything the journal holds (and sweeps every node), on
every way out of a run: the suite's end, Ctrl+C, the forced path.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from pathlib import Path

from ..clusterspec import Spec
from ..clusterspec.faults import DELAY
from ..docker.engine import Engine
from ..docker.logs import private_file
from ..errors import ClusterDeployError
from ..faults.executor import FaultExecutor
from ..faults.schedule import Planned, concrete_schedule, schedule_text

SCHEDULE_FILE = "faults.json"


class Nemesis:
    def __init__(self, engine: Engine, spec: Spec, state_dir: str, say: Callable[[str], None],
                 seed: int | None = None, by: str = "") -> None:
        self.spec, self.say = spec, say
        self.seed = seed if seed is not None else (
            spec.faults.seed if spec.faults.seed is not None else secrets.randbelow(2**31))
        self.planned = concrete_schedule(spec, self.seed) if spec.faults.schedule else []
        self.executor = FaultExecutor(engine, spec, state_dir, by=by, say=say,
                                      run=f"seed {self.seed}")
        self.stopped = threading.Event()
        self.thread: threading.Thread | None = None
        self.applied: set[str] = set()  # active now
        self.begun: set[str] = set()  # whose start came (applied or failed)

    def prepare(self) -> None:
        """The helper image (and netem) ready before the suite: ClusterDeployError if not."""
        if not self.planned:
            return
        self.say(f"faults: seed {self.seed}, {len(self.planned)} scheduled "
                 f"(replay them with `run --seed {self.seed}`)")
        for planned in self.planned:
            self.say(f"  {planned.describe()}")
        network = [p for p in self.planned if p.fault.is_network]
        if network:
            helper = self.executor.helper()
            if any(p.fault.kind == DELAY for p in network):
                self.executor.preflight_delay(helper)

    def start(self) -> None:
        if self.planned:
            self.thread = threading.Thread(target=self._run, daemon=True)
            self.thread.start()

    def _events(self) -> list[tuple[float, int, Planned]]:
        events = [(p.at, 1, p) for p in self.planned]
        events += [(p.at + p.duration, 0, p) for p in self.planned if p.duration is not None]
        return sorted(events, key=lambda e: (e[0], e[1], e[2].fault.id))  # ends first

    def _run(self) -> None:
        began = time.monotonic()
        for when, starts, planned in self._events():
            if self.stopped.wait(max(0.0, began + when - time.monotonic())):
                return
            fault = planned.fault
            try:
                if starts:
                    self.begun.add(fault.id)
                    for line in self.executor.resync():
                        self.say(line)
                    self.executor.apply(fault)
                    self.applied.add(fault.id)
                    self.say(f"fault {fault.id} started: {fault.describe()}")
                elif fault.id in self.applied:
                    self.executor.heal([fault.id])
                    self.applied.discard(fault.id)
                    self.say(f"fault {fault.id} ended")
            except ClusterDeployError as exc:
                self.say(f"fault {fault.id} failed: {exc}")

    def finish(self) -> None:
        """Stop the schedule; heal whatever the journal holds and sweep every node."""
        if not self.planned:
            return
        self.stopped.set()
        if self.thread is not None:
            self.thread.join(timeout=60)
        late = [p.fault.id for p in self.planned if p.fault.id not in self.begun]
        if late:
            self.say(f"faults not started (the suite ended first): {', '.join(late)}")
        try:
            healed, _ = self.executor.heal(None, sweep=True)
        except ClusterDeployError as exc:
            self.say(f"healing the faults failed: {exc}")
            return
        if healed:
            self.say(f"faults healed: {', '.join(e.id for e in healed)}")

    def write(self, run_dir: Path | None) -> None:
        """The concrete schedule into the run's log folder."""
        if self.planned and run_dir is not None:
            with private_file(run_dir / SCHEDULE_FILE) as out:
                out.write(schedule_text(self.planned))
