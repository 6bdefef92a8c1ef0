"""The multi-host benchmark's four engines and their instruments.

The engines are tests/integration/multi_host.py's DockerHostGroup (each its own network
namespace, dockerd and sshd on one host bridge), under our own group name, subnet and engine
slots so they never meet the test suite's groups (cdmh, cdmhk, cdsw). Instruments: a `docker`
wrapper first on the PATH that sshd gives the SSH sessions (every docker call an engine gets,
with its start and end), each engine's CPU time from cpuacct cgroups, and each sshd's log
(connections, commands).
"""

from __future__ import annotations

import contextlib
import os
import shlex
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from checks import DOCKER, log

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # the harness lives in the repository's tests/
    sys.path.insert(0, str(REPO))

from tests.integration.multi_host import DockerHostGroup  # noqa: E402
from tests.integration.remote_host import RemoteDockerHost  # noqa: E402

GROUP = "cdmhb"
GROUP_SUBNET = "10.250.6.0/24"
FIRST_SLOT = 5  # engine slots 5-8; the tests use 1-3 (cdmh) and 11-14 (cdmhk, cdsw)
ENGINES = 4
CPUACCT = Path("/sys/fs/cgroup/cpuacct")
SSHD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# bash's EPOCHREALTIME: the wrapper forks nothing but docker itself, so it adds ~1 ms a call
SHIM = """#!/bin/bash
# docker, logged by bench/multihost.py: start, end, exit status and argv of each call, one
# line a call, appended to $CDMHB_DOCKER_LOG.
s=$EPOCHREALTIME
{docker} "$@"
rc=$?
printf -v argv ' %q' "$@"
printf '%s %s %s%s\\n' "$s" "$EPOCHREALTIME" "$rc" "${{argv:0:300}}" \\
    >> "${{CDMHB_DOCKER_LOG:-/dev/null}}"
exit $rc
"""


def run(argv: Sequence[str], *, check: bool = True, timeout: float = 120,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout, env=env)
    if check and result.returncode != 0:
        raise RuntimeError(f"{shlex.join(argv)} failed: {(result.stderr or result.stdout)[-2000:]}")
    return result


def install_shim(shim_dir: Path) -> Path:
    shim_dir.mkdir(parents=True, exist_ok=True)
    script = shim_dir / "docker"
    script.write_text(SHIM.format(docker=DOCKER))
    script.chmod(0o755)
    return script


def shim_sshd(group: DockerHostGroup, i: int, shim_dir: Path, call_log: Path) -> None:
    """Give host i's SSH sessions the wrapper first on PATH and its log file, restart sshd and
    check that a session finds the wrapper. sshd honours only the first SetEnv line, so the
    harness's own line gets the variables."""
    host = group.host(i)
    line = f"SetEnv DOCKER_HOST={host.docker_host}"
    text = host.sshd_config.read_text()
    if line not in text:
        raise RuntimeError(f"{host.sshd_config} has no line {line!r}")
    text = text.replace(line, f"{line} PATH={shim_dir}:{SSHD_PATH} CDMHB_DOCKER_LOG={call_log}")
    if "LogLevel" not in text:  # VERBOSE: a line per connection and per session (command)
        text += "LogLevel VERBOSE\n"
    host.sshd_config.write_text(text)
    host.stop_sshd()
    host.start_sshd()
    found = group.ssh(i, "command -v docker").stdout.strip()
    if found != str(shim_dir / "docker"):
        raise RuntimeError(f"host {i}: docker is {found!r} in an SSH session, not the wrapper")


def shim_overhead(shim: Path, work: Path, rounds: int = 15) -> float:
    """Median extra seconds per call that the wrapper adds (`docker --version`, alternated)."""
    env = {**os.environ, "CDMHB_DOCKER_LOG": str(work / "overhead.log")}
    extra = []
    for _ in range(rounds):
        times = []
        for argv in ([DOCKER, "--version"], [str(shim), "--version"]):
            start = time.perf_counter()
            subprocess.run(argv, capture_output=True, env=env, check=True)
            times.append(time.perf_counter() - start)
        extra.append(times[1] - times[0])
    (work / "overhead.log").unlink(missing_ok=True)
    return statistics.median(extra)


def _pid(path: Path) -> int:
    return int(path.read_text().split()[0])


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = Path(f"/proc/{entry}/stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry))
    return found


class EngineCpu:
    """CPU seconds of one engine from cpuacct cgroups under its cgroup parent (where its
    containers already go): `daemon` (dockerd and what it starts: containerd, shims, runc,
    docker-proxy), `sshd` (the SSH sessions: shells, the docker CLI, the wrapper) and
    `containers` (the rest: the services and their health checks). The harness removes these
    cgroups with the engine's (`<name>-engine`)."""

    def __init__(self, host: RemoteDockerHost) -> None:
        self.base = CPUACCT / f"{host.name}-engine"
        self.daemon = self.base / "daemon"
        self.sshd = self.base / "sshd"
        self.available = (CPUACCT / "cpuacct.usage").exists()
        if not self.available:
            return
        dockerd = _pid(host.dockerd_pidfile)
        self._move(self.daemon, [dockerd, *_children(dockerd)])
        self._move(self.sshd, [_pid(host.sshd_pidfile)])

    @staticmethod
    def _move(cgroup: Path, pids: list[int]) -> None:
        cgroup.mkdir(parents=True, exist_ok=True)
        for pid in pids:
            (cgroup / "cgroup.procs").write_text(f"{pid}\n")

    @staticmethod
    def _usage(cgroup: Path) -> float:
        return int((cgroup / "cpuacct.usage").read_text()) / 1e9

    def read(self) -> dict[str, float] | None:
        if not self.available:
            return None
        total, daemon, sshd = (self._usage(c) for c in (self.base, self.daemon, self.sshd))
        return {"daemon": daemon, "sshd": sshd, "containers": total - daemon - sshd}


def machine_jiffies() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs, from /proc/stat: the whole machine, other sessions'
    work included."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields) - idle, sum(fields)


class SshdLog:
    """SSH connections and sessions (one per command) of a host's sshd, from its log."""

    def __init__(self, host: RemoteDockerHost) -> None:
        self.path = host.sshd_log
        self.offset = 0

    def mark(self) -> None:
        self.offset = self.path.stat().st_size if self.path.exists() else 0

    def since_mark(self) -> dict[str, int]:
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            text = f.read().decode(errors="replace")
        return {"connections": text.count("Accepted publickey"),
                "commands": text.count("Starting session: command")}


@contextlib.contextmanager
def engines(work: Path) -> Iterator[tuple[DockerHostGroup, dict[int, EngineCpu], Path, Path]]:
    """The group, instrumented: (group, CPU per engine, the wrapper, the call-log folder).
    Always torn down completely (namespaces, engines, sshds, tmpfs, cgroups, bridge, rule),
    and checked."""
    shim_dir, calls_dir = work / "shim", work / "calls"
    shim = install_shim(shim_dir)
    calls_dir.mkdir(parents=True, exist_ok=True)
    group = DockerHostGroup(name=GROUP, count=ENGINES, subnet=GROUP_SUBNET,
                            first_slot=FIRST_SLOT)
    try:
        group.up()
        if group.left_by_earlier_run:
            log(f"removed {len(group.left_by_earlier_run)} leftovers of an earlier run")
        log(f"{ENGINES} engines up in {group.timings['start']:.1f}s")
        for i in range(1, ENGINES + 1):
            shim_sshd(group, i, shim_dir, calls_dir / f"h{i}.log")
        cpu = {i: EngineCpu(group.host(i)) for i in range(1, ENGINES + 1)}
        yield group, cpu, shim, calls_dir
    finally:
        group.down()
        left = DockerHostGroup.leftovers(GROUP)
        if left:
            log(f"leftovers after down(): {left[:5]}; cleaning")
            DockerHostGroup.cleanup_leftovers(GROUP)
