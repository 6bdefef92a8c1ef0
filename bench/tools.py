"""The three tools the benchmark times, and one cycle of a tool through the phases with the
untimed checks between them (checks.py). Each phase method returns seconds."""

from __future__ import annotations

import concurrent.futures
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from checks import (
    COMMAND_TIMEOUT,
    check_changed,
    check_gone,
    check_state,
    docker,
    wait_healthy,
)
from shape import (
    CD_CLUSTER,
    CLI_LABEL,
    CLUSTER_LABEL,
    COMPOSE_PROJECT,
    TOOLS,
    address,
    cli_create_args,
    container_name,
    copy_templates,
    render_files,
    subnet,
    write_compose,
    write_spec,
)

PARALLELISM = 8  # the CLI floor's, as clusterdeploy's default


@dataclass(frozen=True)
class Setup:
    """Where things are: the checkout whose clusterdeploy is timed (its entry scripts, package
    and templates), its pyinfra, docker-compose, the scratch directory."""

    repo: Path
    pyinfra: Path
    compose: Path
    work: Path
    bench: Path


class ClusterDeploy:
    tool = "clusterdeploy"
    label = f"{CLUSTER_LABEL}={CD_CLUSTER}"

    def __init__(self, setup: Setup, n: int):
        self.setup, self.n = setup, n
        self.root = setup.work / "clusterdeploy"
        self.spec = self.root / "cluster.json.yml"
        self.state = self.root / "state"
        self.extra_env: dict[str, str] = {}
        self.last_output = ""

    def prepare(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        copy_templates(self.setup.repo / "docker-test" / "templates", self.root)
        write_spec(self.spec, self.n, changed=False)

    def pyinfra(self, script: str, *data: str, expect: str | None = None) -> float:
        args = [str(self.setup.pyinfra), "-y", "inventory.py", script,
                "--data", f"state_dir={self.state}"]
        for item in data:
            args += ["--data", item]
        env = {**os.environ, "CLUSTER_SPEC": str(self.spec), **self.extra_env}
        start = time.perf_counter()
        result = subprocess.run(args, cwd=self.setup.repo, env=env, capture_output=True,
                                text=True, timeout=COMMAND_TIMEOUT)
        elapsed = time.perf_counter() - start
        self.last_output = result.stdout + result.stderr
        if result.returncode != 0:
            raise RuntimeError(f"pyinfra {script} failed:\n{self.last_output[-4000:]}")
        if expect and expect not in self.last_output:
            raise RuntimeError(f"pyinfra {script}: expected {expect!r} in:\n"
                               f"{self.last_output[-3000:]}")
        return elapsed

    def cold(self) -> float:
        return self.pyinfra("deploy.py", expect="plan for cluster")

    def noop(self) -> float:
        return self.pyinfra("deploy.py", expect="is up to date")

    def change1(self) -> float:
        write_spec(self.spec, self.n, changed=True)
        return self.pyinfra("deploy.py", expect="recreate")

    def teardown(self) -> float:
        return self.pyinfra("teardown.py", expect="collect-logs")

    def teardown_nologs(self) -> float | None:
        """Deploy again (untimed), then tear down without collecting logs; None when this
        clusterdeploy has no such teardown (it collected them anyway)."""
        self.pyinfra("deploy.py")
        check_state(self.label, self.n)
        seconds = self.pyinfra("teardown.py", "collect_logs=false")
        return None if "collect-logs" in self.last_output else seconds

    def startup(self) -> float:
        """pyinfra with our inventory (spec load+validate), connecting, no operation."""
        return self.pyinfra(str(self.setup.bench / "empty_deploy.py"))

    def startup_bare(self) -> float:
        """pyinfra alone: imports, an inline @local inventory, connecting, no operation."""
        start = time.perf_counter()
        result = subprocess.run([str(self.setup.pyinfra), "-y", "@local",
                                 str(self.setup.bench / "empty_deploy.py")],
                                cwd=self.setup.bench, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"bare pyinfra failed:\n{result.stderr[-2000:]}")
        return time.perf_counter() - start


class Compose:
    tool = "compose"
    label = f"com.docker.compose.project={COMPOSE_PROJECT}"

    def __init__(self, setup: Setup, n: int):
        self.setup, self.n = setup, n
        self.root = setup.work / "compose"
        self.file = self.root / "docker-compose.json"
        self.names = [container_name("compose", i) for i in range(1, n + 1)]

    def prepare(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        render_files("compose", self.n, self.root / "files")
        write_compose(self.file, self.n, False, self.root / "files")

    def compose(self, *args: str) -> None:
        # compose 1.x deadlocks with more services than COMPOSE_PARALLEL_LIMIT (default 64):
        # the per-service tasks hold every slot of the shared semaphore while their nested
        # create tasks wait for one (docker/compose#5864, #7486, #8226). Raise it past 2N.
        env = {**os.environ, "COMPOSE_PARALLEL_LIMIT": str(max(64, 4 * self.n))}
        result = subprocess.run([str(self.setup.compose), "-p", COMPOSE_PROJECT, "-f",
                                 str(self.file), *args], cwd=self.root, capture_output=True,
                                text=True, env=env, timeout=COMMAND_TIMEOUT)
        if result.returncode != 0:
            raise RuntimeError(f"docker-compose {' '.join(args)} failed:\n{result.stderr[-3000:]}")

    def up(self) -> float:
        start = time.perf_counter()
        self.compose("up", "-d", "--remove-orphans")
        wait_healthy(self.names)
        return time.perf_counter() - start

    def cold(self) -> float:
        return self.up()

    def noop(self) -> float:
        return self.up()

    def change1(self) -> float:
        write_compose(self.file, self.n, True, self.root / "files")
        return self.up()

    def teardown(self) -> float:
        start = time.perf_counter()
        self.compose("down", "--remove-orphans")
        return time.perf_counter() - start


class Cli:
    """The floor: the same docker commands by hand, at the same parallelism, no decisions."""

    tool = "cli"
    label = f"{CLI_LABEL}=cli"

    def __init__(self, setup: Setup, n: int):
        self.n = n
        self.files = setup.work / "cli" / "files"
        self.names = [container_name("cli", i) for i in range(1, n + 1)]

    def prepare(self) -> None:
        render_files("cli", self.n, self.files)

    @staticmethod
    def parallel(units: list[list[list[str]]]) -> None:
        def run(commands: list[list[str]]) -> None:
            for command in commands:
                docker(*command)
        with concurrent.futures.ThreadPoolExecutor(PARALLELISM) as pool:
            for future in [pool.submit(run, u) for u in units]:
                future.result()

    def create_start(self, i: int, changed: bool) -> list[list[str]]:
        return [cli_create_args(self.n, i, changed, self.files),
                ["start", container_name("cli", i)]]

    def cold(self) -> float:
        start = time.perf_counter()
        docker("network", "create", "--driver", "bridge", "--subnet", subnet("cli"),
               "--gateway", address("cli", 0), "--label", f"{CLI_LABEL}=cli",
               TOOLS["cli"]["network"])
        self.parallel([self.create_start(i, False) for i in range(1, self.n + 1)])
        wait_healthy(self.names)
        return time.perf_counter() - start

    def noop(self) -> float:
        start = time.perf_counter()
        docker("inspect", *self.names)
        return time.perf_counter() - start

    def change1(self) -> float:
        start = time.perf_counter()
        name = container_name("cli", 1)
        self.parallel([[["stop", name], ["rm", "--force", "--volumes", name],
                        *self.create_start(1, True)]])
        wait_healthy(self.names)
        return time.perf_counter() - start

    def teardown(self) -> float:
        start = time.perf_counter()
        self.parallel([[["stop", n], ["rm", "--force", "--volumes", n]] for n in self.names])
        docker("network", "rm", TOOLS["cli"]["network"])
        return time.perf_counter() - start


TOOL_CLASSES = {"clusterdeploy": ClusterDeploy, "compose": Compose, "cli": Cli}


def cycle(runner: ClusterDeploy | Compose | Cli, n: int) -> dict[str, float]:
    """cold, noop, change1, teardown for one tool, with untimed checks between phases; for
    clusterdeploy also its teardown without log collection and its start-up alone."""
    runner.prepare()
    times = {"cold": runner.cold()}
    before = check_state(runner.label, n)
    times["noop"] = runner.noop()
    check_changed(before, check_state(runner.label, n), set())
    times["change1"] = runner.change1()
    check_changed(before, check_state(runner.label, n), {container_name(runner.tool, 1)})
    times["teardown"] = runner.teardown()
    check_gone(runner.label)
    if isinstance(runner, ClusterDeploy):
        nologs = runner.teardown_nologs()
        check_gone(runner.label)
        if nologs is not None:
            times["teardown_nologs"] = nologs
        times["startup"] = runner.startup()
        times["startup_bare"] = runner.startup_bare()
    return times
