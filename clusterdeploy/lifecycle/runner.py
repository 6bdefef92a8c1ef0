"""The seed's loop, made solid: deploy, run the tester's suite, keep the cluster up until
interrupted (or stop after the suite with --once), shut down, collect logs, summarise.

One Ctrl+C (or SIGTERM) is graceful, a second one forces. The exit code is the suite's, 130
when interrupted before the suite finished, the deploy's when the deploy failed.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import FrameType

from ..clusterspec import Spec
from ..docker.engine import Engine
from ..docker.lock import DEFAULT_TIMEOUT, TOKEN_ENV, ClusterLock, Holder, command_line, lock_dir
from ..docker.logs import collect_logs
from ..docker.runfacts import EventRecorder
from ..errors import ClusterDeployError
from ..report import try_write_report
from .entry import pyinfra_command, pyinfra_env
from .nemesis import Nemesis
from .shutdown import stop_all
from .transcript import Transcript

INTERRUPTED = 130


def say(message: str) -> None:
    print(f"[clusterdeploy] {message}", file=sys.stderr, flush=True)


@dataclass
class Interrupts:
    """Counts SIGINT/SIGTERM: the first asks for a graceful stop, the second forces."""

    stop: threading.Event = field(default_factory=threading.Event)
    force: threading.Event = field(default_factory=threading.Event)
    count: int = 0

    def handle(self, signum: int, frame: FrameType | None) -> None:
        self.count += 1
        if self.count == 1:
            say("shutting down gracefully (Ctrl+C again to force)")
            self.stop.set()
        else:
            say("forcing shutdown")
            self.force.set()

    def install(self) -> None:
        signal.signal(signal.SIGINT, self.handle)
        signal.signal(signal.SIGTERM, self.handle)


def deploy(spec: Spec, pyinfra_args: Sequence[str], interrupts: Interrupts,
           lock_token: str) -> int:
    """Run `pyinfra -y inventory.py deploy.py` in the working directory, with its own entry
    scripts or the package's (lifecycle/entry.py), under the run's own cluster lock (handed
    on by its token)."""
    process = subprocess.Popen(pyinfra_command("deploy.py", pyinfra_args),
                               env={**pyinfra_env(spec.file), TOKEN_ENV: lock_token})
    while process.poll() is None:
        if interrupts.stop.wait(0.1) and process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=None if not interrupts.force.is_set() else 5)
            except subprocess.TimeoutExpired:
                process.kill()
            break
    return process.wait()


def run_suite(engine: Engine, spec: Spec, interrupts: Interrupts,
              transcript: Transcript) -> int | None:
    """Run the tester's suite in its container, streaming its output (and keeping it in
    `transcript`); None if interrupted before it finished."""
    client = engine.client
    container = client.containers.get(spec.tester.container_name)
    say(f"running the suite in {container.name}: {' '.join(spec.tester.suite)}")
    transcript.begin(container.name or "", spec.tester.suite)
    exec_id = client.api.exec_create(container.id, list(spec.tester.suite),
                                     stdout=True, stderr=True, tty=False)["Id"]
    result: dict[str, int] = {}

    def stream() -> None:
        for chunk in client.api.exec_start(exec_id, stream=True, demux=False):
            transcript.append(chunk)
            sys.stdout.buffer.write(chunk)
            sys.stdout.flush()
        result["code"] = client.api.exec_inspect(exec_id)["ExitCode"]
        transcript.end(result["code"])

    thread = threading.Thread(target=stream, daemon=True)
    thread.start()
    while thread.is_alive():
        if interrupts.stop.wait(0.1):
            return None
    return result.get("code", 1)


def shutdown_and_collect(engine: Engine, spec: Spec, interrupts: Interrupts,
                         transcript: Transcript, nemesis: Nemesis,
                         events: EventRecorder | None = None) -> None:
    containers = engine.cluster_containers(spec.name)
    grace = {m.container_name: m.settings.stop_grace_period for m in spec.members}
    mode = "forced" if interrupts.force.is_set() else "graceful"
    say(f"{mode} shutdown of {len(containers)} containers")
    endings = stop_all(containers, grace, interrupts.force)
    run_dir = collect_logs(engine, spec.name, spec.logs_dir,
                           events=events.stop() if events else None,
                           faults_dir=nemesis.executor.directory)
    if run_dir and transcript:
        transcript.write(run_dir)
    nemesis.write(run_dir)
    say("summary:")
    for ending in endings:
        say(f"  {ending}")
    if run_dir:
        say(f"logs: {run_dir} (merged: {run_dir / 'cluster.log'})")
        say(f"report: {try_write_report(run_dir)}")


def run(spec: Spec, once: bool, state_dir: str, pyinfra_args: Sequence[str] = (),
        lock_timeout: float = DEFAULT_TIMEOUT, seed: int | None = None) -> int:
    """The whole loop, holding the cluster's lock from the deploy to the last log line."""
    interrupts = Interrupts()
    interrupts.install()
    host = spec.hosts[0]
    with Engine(host) as engine:
        lock = ClusterLock(engine.run, host.name, lock_dir(state_dir, spec.name),
                           Holder.here(command_line()))
        lock.acquire(lock_timeout, say=say)
        events = EventRecorder(engine, spec.name).start()
        try:
            code = deploy(spec, pyinfra_args, interrupts, lock.holder.token)
            nemesis = Nemesis(engine, spec, state_dir, say, seed,
                              by=lock.holder.describe().split(" since ")[0])
            return _after_deploy(engine, spec, once, code, interrupts, nemesis, events)
        finally:
            events.close()
            lock.release()


def _suite_with_faults(engine: Engine, spec: Spec, interrupts: Interrupts,
                       transcript: Transcript, nemesis: Nemesis) -> int | None:
    """The suite while the schedule's faults come and go; healed however it ends."""
    try:
        nemesis.prepare()
    except ClusterDeployError as exc:
        say(f"faults cannot be applied: {exc}")
        return 1
    nemesis.start()
    try:
        return run_suite(engine, spec, interrupts, transcript)
    finally:
        nemesis.finish()


def _after_deploy(engine: Engine, spec: Spec, once: bool, code: int,
                  interrupts: Interrupts, nemesis: Nemesis,
                  events: EventRecorder | None = None) -> int:
    transcript = Transcript()
    if code != 0:
        say(f"deploy failed (exit {code})")
        result = INTERRUPTED if interrupts.stop.is_set() else code
    else:
        suite = (None if interrupts.stop.is_set()
                 else _suite_with_faults(engine, spec, interrupts, transcript, nemesis))
        result = INTERRUPTED if suite is None else suite
        if suite is not None:
            say(f"suite {'passed' if suite == 0 else f'failed (exit {suite})'}")
        if not once and not interrupts.stop.is_set():
            say(f"cluster {spec.name} is up; Ctrl+C to shut down (twice to force)")
            while not interrupts.stop.wait(0.5):
                pass
    shutdown_and_collect(engine, spec, interrupts, transcript, nemesis, events)
    return result
