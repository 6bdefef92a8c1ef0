"""The seed's loop, made solid: deploy, run the tester's suite, keep the cluster up until
interrupted (or stop after the suite with --once), shut down, collect logs, summarise.

One Ctrl+C (or SIGTERM) is graceful, a second one forces. The exit code is the suite's, 130
when interrupted before the suite finished, the deploy's when the deploy failed.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import FrameType

from ..clusterspec import Spec
from ..core.desired import host_state_dir
from ..docker.engine import Engine
from ..docker.lock import DEFAULT_TIMEOUT, TOKEN_ENV, ClusterLock, Holder, command_line, lock_dir
from ..docker.logs import LogSource, collect_from
from ..docker.runfacts import EventRecorder
from ..errors import ClusterDeployError
from ..report import try_write_report
from .entry import pyinfra_command, pyinfra_env
from .nemesis import Nemesis
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


def start_deploy(spec: Spec, pyinfra_args: Sequence[str], lock_token: str,
                 ) -> subprocess.Popen[bytes]:
    """Start `pyinfra -y inventory.py deploy.py` in the working directory, with its own entry
    scripts or the package's (lifecycle/entry.py), under the run's own cluster lock (handed
    on by its token)."""
    return subprocess.Popen(pyinfra_command("deploy.py", pyinfra_args),
                            env={**pyinfra_env(spec.file), TOKEN_ENV: lock_token})


def wait_deploy(process: subprocess.Popen[bytes], interrupts: Interrupts) -> int:
    """The deploy's exit status; Ctrl+C passed on to it (a second one kills it after 5 s)."""
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


def shutdown_and_collect(engines: Mapping[str, Engine], spec: Spec, interrupts: Interrupts,
                         transcript: Transcript, nemesis: Nemesis,
                         events: Mapping[str, EventRecorder] | None = None) -> None:
    """Stop every container of every host at once, then collect all their logs into one
    folder."""
    from .shutdown import name_of, stop_all  # the Docker SDK: imported after the deploy began

    by_host = {name: engine.cluster_containers(spec.name) for name, engine in engines.items()}
    containers = [c for found in by_host.values() for c in found]
    running = {name: [name_of(c) for c in found if c.status == "running"]
               for name, found in by_host.items()}
    grace = {m.container_name: m.settings.stop_grace_period for m in spec.members}
    mode = "forced" if interrupts.force.is_set() else "graceful"
    where = f" on {len(engines)} hosts" if spec.spans_hosts else ""
    say(f"{mode} shutdown of {len(containers)} containers{where}")
    stopping_since = time.time()
    endings = stop_all(containers, grace, interrupts.force)
    tester_host = spec.tester.member.host
    run_dir = collect_from([LogSource(
        engine, name if spec.spans_hosts else "",
        nemesis.executor.directory if name == tester_host else "",
        events[name].stop(running[name], stopping_since) if events else None)
        for name, engine in engines.items()], spec.name, spec.logs_dir)
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
    """The whole loop, holding the cluster's lock on every host from the deploy to the last
    log line (the deploy, a child process, inherits them by the holder's token)."""
    interrupts = Interrupts()
    interrupts.install()
    holder = Holder.here(command_line())
    with contextlib.ExitStack() as stack:
        engines = {h.name: stack.enter_context(Engine(h)) for h in spec.hosts}
        for host in spec.hosts:
            lock = ClusterLock(engines[host.name].run, host.name, lock_dir(
                host_state_dir(state_dir, host.name, spec.spans_hosts), spec.name), holder)
            lock.acquire(lock_timeout, say=say)
            stack.callback(lock.release)
        # The deploy starts first: its interpreter and pyinfra start up (~1 s) while the
        # event streams are opened here, from the moment before it started.
        since = time.time()
        process = start_deploy(spec, pyinfra_args, holder.token)
        events = {name: EventRecorder(engine, spec.name).start(since)
                  for name, engine in engines.items()}
        for recorder in events.values():
            stack.callback(recorder.close)
        code = wait_deploy(process, interrupts)
        tester_host = spec.tester.member.host
        nemesis = Nemesis(engines[tester_host], spec,
                          host_state_dir(state_dir, tester_host, spec.spans_hosts), say, seed,
                          by=holder.describe().split(" since ")[0])
        return _after_deploy(engines, spec, once, code, interrupts, nemesis, events)


def _suite_with_faults(engine: Engine, spec: Spec, interrupts: Interrupts,
                       transcript: Transcript, nemesis: Nemesis) -> int | None:
    # `engine`: the tester's host
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


def _after_deploy(engines: Mapping[str, Engine], spec: Spec, once: bool, code: int,
                  interrupts: Interrupts, nemesis: Nemesis,
                  events: Mapping[str, EventRecorder] | None = None) -> int:
    engine = engines[spec.tester.member.host]
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
    shutdown_and_collect(engines, spec, interrupts, transcript, nemesis, events)
    return result
