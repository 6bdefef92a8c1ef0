"""Issue 5: the run_tests.sh loop: deploy, suite in the tester, Ctrl+C once (graceful) or twice
(forced), logs of every container, status."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from .conftest import (
    REPO,
    Project,
    docker,
    make_project,
    plan_lines,
    remove_cluster,
    wait_for,
)

pytestmark = pytest.mark.docker

NAME = "cdrun"
PORT_BASE = 41700


class Runner:
    """`python -m clusterdeploy run` in the background, its stderr collected line by line."""

    def __init__(self, project: Project, *args: str) -> None:
        env = {k: v for k, v in os.environ.items() if k != "CI"}  # CI=true would imply --once
        self.process = subprocess.Popen(
            [sys.executable, "-m", "clusterdeploy", "run", "--spec", str(project.spec_path),
             "--state-dir", str(project.state_dir), *args],
            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.stderr: list[str] = []
        self.stdout = ""
        threading.Thread(target=self._read_stderr, daemon=True).start()
        threading.Thread(target=self._read_stdout, daemon=True).start()

    def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.stderr.append(line)

    def _read_stdout(self) -> None:
        assert self.process.stdout is not None
        self.stdout = self.process.stdout.read()

    def saw(self, text: str) -> bool:
        return any(text in line for line in self.stderr)

    def wait_to_see(self, text: str, timeout: float = 300) -> None:
        """Wait for a line; fail at once, with the output, if the runner exits instead."""
        wait_for(lambda: self.saw(text) or self.process.poll() is not None, timeout=timeout)
        time.sleep(0.2)
        assert self.saw(text), f"runner exited ({self.process.poll()}):\n{self.output[-4000:]}"

    def wait(self, timeout: float = 120) -> int:
        code = self.process.wait(timeout=timeout)
        time.sleep(0.2)  # let the readers drain
        return code

    @property
    def output(self) -> str:
        return "".join(self.stderr)


def summary_lines(output: str) -> dict[str, str]:
    found = re.findall(r"\[clusterdeploy\]   (\S+): (.+)", output)
    return dict(found)


def latest_logs(project: Project) -> Path:
    return (project.root / "docker-test" / "logs" / "latest").resolve()


@pytest.fixture(scope="module")
def project(engine: None, tmp_path_factory: pytest.TempPathFactory) -> Project:
    project = make_project(tmp_path_factory.mktemp("lifecycle"), NAME, PORT_BASE, 203)
    yield project
    remove_cluster(NAME)


def test_run_once_passes_the_shipped_suite(project: Project) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "clusterdeploy", "run", "--once", "--spec",
         str(project.spec_path), "--state-dir", str(project.state_dir)],
        cwd=REPO, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    for test in ("TestPing", "TestStatusListsAllReplicas", "TestReplicatedPut",
                 "TestPeersAllReachable"):
        assert f"--- PASS: {test}" in result.stdout
    ends = summary_lines(result.stderr)
    for i in range(1, 6):
        assert re.match(r"stopped in \d+\.\ds, exited 0", ends[f"{NAME}_node{i}"])
    assert re.match(r"stopped in \d+\.\ds, exited 0", ends[f"{NAME}_tester"])
    logs = latest_logs(project)
    assert "PASS" in (logs / "suite.log").read_text()
    summary = json.loads((logs / "summary.json").read_text())
    assert sorted(summary) == sorted([f"{NAME}_node{i}" for i in range(1, 6)] + [f"{NAME}_tester"])
    assert all(entry["exit_code"] == 0 for entry in summary.values())


def test_one_sigint_shuts_down_gracefully_with_complete_logs(project: Project) -> None:
    runner = Runner(project)
    runner.wait_to_see("is up; Ctrl+C to shut down")
    assert runner.saw("suite passed")
    runner.process.send_signal(signal.SIGINT)
    assert runner.wait() == 0  # the suite's exit code
    assert runner.saw("graceful shutdown of 6 containers")
    ends = summary_lines(runner.output)
    for i in range(1, 6):
        seconds = float(re.match(r"stopped in (\d+\.\d)s, exited 0", ends[f"{NAME}_node{i}"])[1])
        assert seconds < 5, ends  # the grace period is 10s: SIGTERM reached the server
    logs = latest_logs(project)
    for i in range(1, 6):
        records = [json.loads(line) for line in (logs / f"{NAME}_node{i}.log").read_text()
                   .splitlines()]
        messages = [r["message"] for r in records]
        assert "listening" in messages and "shutting down" in messages
        assert messages[-1] == "stopped"
        assert all("time" in r for r in records)
    merged = [json.loads(line) for line in (logs / "cluster.log").read_text().splitlines()]
    assert {r["container"] for r in merged} >= {f"{NAME}_node{i}" for i in range(1, 6)}
    # merged by Docker's timestamps, each container's lines keep their own file's order (the
    # service's own "time" may go backwards by microseconds between goroutines: not checked)
    own = [json.loads(line) for line in (logs / f"{NAME}_node1.log").read_text().splitlines()]
    assert [{k: v for k, v in r.items() if k != "container"}
            for r in merged if r["container"] == f"{NAME}_node1"] == own


def test_two_runs_leave_two_log_folders(project: Project) -> None:
    logs_dir = project.root / "docker-test" / "logs"
    before = {p.name for p in logs_dir.iterdir() if p.is_dir() and not p.is_symlink()}
    result = subprocess.run([sys.executable, "-m", "clusterdeploy", "logs", "--spec",
                             str(project.spec_path)], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    after = {p.name for p in logs_dir.iterdir() if p.is_dir() and not p.is_symlink()}
    assert len(after - before) == 1
    assert latest_logs(project).name == (after - before).pop()
    assert len(after) >= 2


def test_crashed_node_has_its_logs_and_exit_code_collected(project: Project) -> None:
    project.deploy()
    # SIGABRT to the server itself (tini does not forward synchronous signals): the Go runtime
    # exits 2 with a goroutine dump, a crash
    docker("exec", f"{NAME}_node3", "sh", "-c",
           'for p in /proc/[0-9]*; do [ "$(cat $p/comm)" = server ] && kill -ABRT "${p#/proc/}"; '
           "done; true")
    wait_for(lambda: docker("inspect", "--format", "{{.State.Status}}", f"{NAME}_node3")
             .stdout.strip() == "exited", timeout=20)
    result = subprocess.run([sys.executable, "-m", "clusterdeploy", "logs", "--spec",
                             str(project.spec_path)], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0
    logs = Path(result.stdout.strip())
    summary = json.loads((logs / "summary.json").read_text())
    assert summary[f"{NAME}_node3"]["status"] == "exited"
    assert summary[f"{NAME}_node3"]["exit_code"] not in (0, None)
    assert summary[f"{NAME}_node1"]["status"] == "running"
    node3 = (logs / f"{NAME}_node3.log").read_text()
    assert "listening" in node3 and "SIGABRT" in node3  # the crash dump, from stderr


def test_status_shows_a_stopped_node_and_a_drifted_node(project: Project) -> None:
    project.deploy()
    docker("stop", f"{NAME}_node2")
    project.edit_spec(lambda s: s["nodes"][3].setdefault("environment", {}).update(DRIFT="1"))
    result = subprocess.run([sys.executable, "-m", "clusterdeploy", "status", "--json", "--spec",
                             str(project.spec_path), "--state-dir", str(project.state_dir)],
                            cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    rows = {row["container"]: row for row in json.loads(result.stdout)}
    assert rows[f"{NAME}_node2"]["state"] == "exited (0)"
    assert rows[f"{NAME}_node4"]["drift"] == "environment changed: DRIFT"
    assert rows[f"{NAME}_node1"]["state"] == "running"
    assert rows[f"{NAME}_node1"]["health"] == "healthy"
    assert rows[f"{NAME}_node1"]["drift"] == "in sync"
    assert rows[f"{NAME}_node1"]["host_ports"] == f"127.0.0.1:{PORT_BASE + 1}"
    assert rows[f"{NAME}_node1"]["address"] == "172.28.203.2"
    table = subprocess.run([sys.executable, "-m", "clusterdeploy", "status", "--spec",
                            str(project.spec_path), "--state-dir", str(project.state_dir)],
                           cwd=REPO, capture_output=True, text=True).stdout
    assert table.splitlines()[0].split() == ["CONTAINER", "NODE", "STATE", "HEALTH", "ADDRESS",
                                             "HOST", "PORT", "IMAGE", "VOLUMES", "DRIFT"]


def test_two_sigints_kill_at_once(engine: None, tmp_path: Path) -> None:
    """A node that ignores SIGTERM (PID 1 without init) and a 60 s grace period: the second
    Ctrl+C must not wait for it."""
    project = make_project(tmp_path, "cdforce", 41800, 204)

    def add_stubborn(spec: dict) -> None:
        stubborn = {"name": "stubborn", "container_name": "cdforce_stubborn", "init": False,
                    "command": ["sleep", "infinity"], "stop_grace_period": "60s",
                    "healthcheck": {"test": ["CMD", "true"]}}
        spec["nodes"] = [*spec["nodes"][:2], stubborn]
    project.edit_spec(add_stubborn)
    try:
        runner = Runner(project)
        runner.wait_to_see("is up; Ctrl+C to shut down")
        runner.process.send_signal(signal.SIGINT)
        runner.wait_to_see("graceful shutdown of 4 containers", timeout=30)
        time.sleep(1.0)
        started = time.monotonic()
        runner.process.send_signal(signal.SIGINT)
        runner.wait(timeout=60)
        assert time.monotonic() - started < 15
        assert runner.saw("forcing shutdown")
        ends = summary_lines(runner.output)
        assert re.match(r"killed in \d+\.\ds, exit code 137", ends["cdforce_stubborn"]), ends
        assert docker("inspect", "--format", "{{.State.Status}}",
                      "cdforce_stubborn").stdout.strip() == "exited"
        logs = latest_logs(project)
        assert (logs / "cdforce_node1.log").read_text().count("stopped") >= 1
    finally:
        remove_cluster("cdforce")


def test_interrupted_before_the_suite_finished_exits_130(project: Project) -> None:
    # A suite that cannot finish before the interrupt (the shipped one takes ~0.1 s).
    shipped = project.spec()
    project.edit_spec(lambda spec: spec["tester"].update(command=["sleep", "60"]))
    try:
        runner = Runner(project)
        runner.wait_to_see("running the suite in")
        time.sleep(0.5)
        runner.process.send_signal(signal.SIGINT)
        assert runner.wait() == 130
    finally:
        project.write_spec(shipped)
    assert runner.saw("graceful shutdown of 6 containers")
    assert runner.saw("logs: ")


def test_forced_teardown_kills_and_collects_logs_first(project: Project) -> None:
    project.deploy()
    result = project.teardown(force="true")
    plan = plan_lines(result)
    assert f"kill {NAME}_node1: forced" in plan and f"remove {NAME}_node1: teardown" in plan
    summary = json.loads((latest_logs(project) / "summary.json").read_text())
    assert summary[f"{NAME}_node1"]["status"] == "running"  # collected before the kill
    assert docker("ps", "-aq", "--filter", f"label=io.clusterdeploy.cluster={NAME}").stdout == ""


def test_a_teardown_told_not_to_collect_logs_collects_none(project: Project) -> None:
    project.deploy()
    logs_dir = project.root / "docker-test" / "logs"
    before = set(logs_dir.iterdir())
    plan = plan_lines(project.teardown(force="true", collect_logs="false"))
    assert f"remove {NAME}_node1: teardown" in plan
    assert not any(line.startswith("collect-logs") for line in plan)
    assert set(logs_dir.iterdir()) == before
    assert docker("ps", "-aq", "--filter", f"label=io.clusterdeploy.cluster={NAME}").stdout == ""
