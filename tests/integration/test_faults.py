"""Issue 16: faults on the real engine: partitions (every pair checked), one-way cuts, loss,
rate, pause, kill, the netem preflight on this kernel, bad input; the fault schedule of `run`
healed on SIGINT and after a SIGKILLed runner; the same seed, the same schedule; a NATS cluster
(an image without iptables)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import REPO, Project, docker, make_project, plan_lines, remove_cluster, wait_for

pytestmark = pytest.mark.docker

NAME = "cdfault"
NATS = "cdfaultn"
PORT_BASE = 41850  # host ports 41851-41855 (cdforce of test_lifecycle uses 41801-41802)
NODES = [f"node{i}" for i in range(1, 6)]
HELPER_LABEL = "io.clusterdeploy.fault-helper"


def remove_everything(cluster: str) -> None:
    remove_cluster(cluster)
    helpers = docker("ps", "-aq", "--filter", f"label={HELPER_LABEL}={cluster}").stdout.split()
    if helpers:
        docker("rm", "-f", *helpers, check=False)


@pytest.fixture(scope="module")
def project(engine: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    remove_everything(NAME)
    project = make_project(tmp_path_factory.mktemp("faults"), NAME, PORT_BASE, 218)
    project.edit_spec(lambda spec: spec["network"].update(subnet="172.28.218.0/25"))
    project.deploy()
    yield project
    remove_everything(NAME)


def cli(project: Project, *args: str, check: bool = True, timeout: float = 300,
        ) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "clusterdeploy", *args, "--spec", str(project.spec_path),
         "--state-dir", str(project.state_dir)],
        cwd=REPO, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"clusterdeploy {' '.join(args)} failed ({result.returncode}):\n"
                             f"{result.stdout}\n{result.stderr}")
    return result


def fault(project: Project, *args: str, **kwargs) -> subprocess.CompletedProcess:
    return cli(project, "fault", *args, **kwargs)


def helper_ref() -> str:
    from clusterdeploy.docker.engine import Engine
    from clusterdeploy.faults.image import helper_image
    return helper_image(Engine().image_ids()).ref


def in_namespace(container: str) -> str:
    """What clusterdeploy may leave in a container's network namespace: the filter table and
    the root qdiscs."""
    return docker("run", "--rm", "--network", f"container:{container}", "--cap-add",
                  "NET_ADMIN", helper_ref(), "sh", "-c",
                  "iptables-save -t filter; tc qdisc show").stdout


def journal(project: Project, cluster: str = NAME) -> list[str]:
    directory = project.state_dir / ".clusterdeploy-faults" / cluster
    return sorted(p.name for p in directory.glob("*.json")) if directory.exists() else []


def assert_nothing_left(project: Project, containers: list[str], cluster: str = NAME) -> None:
    assert journal(project, cluster) == []
    for container in containers:
        state = in_namespace(container)
        assert "CLUSTERDEPLOY" not in state and " cd: " not in state, (container, state)
    assert docker("ps", "-aq", "--filter", f"label={HELPER_LABEL}={cluster}").stdout == ""


def peers(node: str) -> dict[str, bool]:
    out = docker("exec", f"{NAME}_{node}", "curl", "-sS", "-m", "8",
                 "http://127.0.0.1:40404/peers").stdout
    return {p["hostname"]: p["reachable"] for p in json.loads(out)["peers"]}


def reachability() -> dict[tuple[str, str], bool]:
    """(a, b) -> whether a's /peers reaches b, for every pair of nodes."""
    found = {}
    for a in NODES:
        for b, ok in peers(a).items():
            if b != a:
                found[(a, b)] = ok
    return found


def tcp_ok(source: str, target: str, timeout: float = 2) -> bool:
    return docker("exec", source, "curl", "-sS", "-o", "/dev/null", "-m", str(timeout),
                  f"http://{target}:40404/ping", check=False).returncode == 0


def containers() -> list[str]:
    return [f"{NAME}_{n}" for n in NODES] + [f"{NAME}_tester"]


def fault_id(result: subprocess.CompletedProcess) -> str:
    match = re.search(r"local: (\S+) applied at ", result.stdout)
    assert match, result.stdout
    return match.group(1)


def test_isolate_node1_then_heal(project: Project) -> None:
    began = time.monotonic()
    result = fault(project, "isolate", "node1")
    applied = time.monotonic() - began
    assert "isolate node1 | node2,node3,node4,node5" in result.stdout
    assert peers("node1") == {"node1": True, **{n: False for n in NODES[1:]}}
    for node in NODES[1:]:
        assert peers(node)["node1"] is False
        assert all(ok for name, ok in peers(node).items() if name != "node1")
    for node in NODES:
        assert tcp_ok(f"{NAME}_tester", node), node  # the tester is never cut unless named
    assert "-j CLUSTERDEPLOY-FAULTS" in in_namespace(f"{NAME}_node1")
    listed = fault(project, "list", "--json")
    (row,) = json.loads(listed.stdout)
    assert (row["id"], row["fault"], row["state"]) == (fault_id(result), "isolate", "active")
    status = cli(project, "status").stdout
    assert f"{row['id']}  since " in status and "isolate node1 |" in status
    began = time.monotonic()
    healed = fault(project, "heal")
    print(f"isolate applied in {applied:.1f} s, healed in {time.monotonic() - began:.1f} s")
    assert f"{row['id']} healed at" in healed.stdout
    assert all(reachability().values())
    assert_nothing_left(project, containers())


def test_two_groups_give_exactly_the_expected_reachability(project: Project) -> None:
    fault(project, "partition", "node1,node2", "node3,node4,node5")
    side = {"node1": 0, "node2": 0, "node3": 1, "node4": 1, "node5": 1}
    try:
        assert reachability() == {(a, b): side[a] == side[b]
                                  for a in NODES for b in NODES if a != b}
    finally:
        fault(project, "heal")
    assert all(reachability().values())
    assert_nothing_left(project, containers())


def test_one_way_node1_cannot_reach_node2_while_node2_reaches_node1(project: Project) -> None:
    fault(project, "partition", "--from", "node1", "--to", "node2")
    try:
        assert not tcp_ok(f"{NAME}_node1", "node2")  # TCP probe from node1: no answer
        assert tcp_ok(f"{NAME}_node2", "node1")  # from node2: connected, answered
        assert tcp_ok(f"{NAME}_node1", "node3") and tcp_ok(f"{NAME}_node3", "node2")
        ping = docker("exec", f"{NAME}_node2", "ping", "-c", "3", "-i", "0.2", "-W", "1", "node1",
                      check=False)
        assert ping.returncode == 0, ping.stdout  # node2's packets reach node1, answers return
    finally:
        fault(project, "heal")
    assert tcp_ok(f"{NAME}_node1", "node2")
    assert_nothing_left(project, containers())


def lost_share(source: str, target: str, count: int = 200) -> float:
    out = docker("exec", source, "ping", "-q", "-c", str(count), "-i", "0.01", "-W", "1",
                 target, check=False, timeout=120).stdout
    match = re.search(r"(\d+) received", out)
    assert match, out
    return 1 - int(match.group(1)) / count


def test_loss_100_is_a_cut_and_loss_30_loses_its_share(project: Project) -> None:
    fault(project, "loss", "node2", "--percent", "100")
    try:
        assert peers("node2") == {"node2": True, **{n: False for n in NODES if n != "node2"}}
        assert peers("node4")["node2"] is False and tcp_ok(f"{NAME}_tester", "node2")
    finally:
        fault(project, "heal")
    fault(project, "loss", "node2", "--percent", "30", "--peers", "node1")
    try:
        share = lost_share(f"{NAME}_node1", "node2")
        # 30% each way: a round trip is lost with probability 1 - 0.7^2 = 0.51
        assert 0.36 <= share <= 0.66, share
        assert lost_share(f"{NAME}_node3", "node2", 50) == 0.0  # node3's link is not faulted
    finally:
        fault(project, "heal")
    assert lost_share(f"{NAME}_node1", "node2", 50) == 0.0
    assert_nothing_left(project, containers())


def download_seconds(source: str, target: str) -> float:
    out = docker("exec", source, "curl", "-sS", "-o", "/dev/null", "-m", "30", "-w",
                 "%{time_total}", f"http://{target}:40404/kv/faultbig").stdout
    return float(out)


def test_rate_lowers_throughput_measurably(project: Project) -> None:
    docker("exec", f"{NAME}_node2", "sh", "-c",
           "head -c 150000 /dev/urandom | base64 -w0 > /tmp/big && curl -sS -o /dev/null -X PUT "
           "--data-binary @/tmp/big http://127.0.0.1:40404/kv/faultbig")
    before = download_seconds(f"{NAME}_node1", "node2")
    fault(project, "rate", "node2", "--rate", "1mbit")
    try:
        limited = download_seconds(f"{NAME}_node1", "node2")
        tester = download_seconds(f"{NAME}_tester", "node2")
        assert "qdisc htb cd: dev eth0 root" in in_namespace(f"{NAME}_node2")
    finally:
        fault(project, "heal")
    print(f"200 kB from node2: {before:.3f} s, at 1mbit {limited:.3f} s, tester {tester:.3f} s")
    assert limited > 1.0 > 10 * before  # 200 kB at 1 Mbit/s takes 1.6 s
    assert tester < 0.5  # the tester's traffic is not shaped
    assert download_seconds(f"{NAME}_node1", "node2") < 0.5
    assert_nothing_left(project, containers())


def test_pause_times_out_and_unpause_answers(project: Project) -> None:
    fault(project, "pause", "node4")
    try:
        assert docker("inspect", "-f", "{{.State.Status}}", f"{NAME}_node4").stdout.strip() == \
            "paused"
        assert not tcp_ok(f"{NAME}_tester", "node4", timeout=2)
    finally:
        fault(project, "unpause", "node4")
    assert tcp_ok(f"{NAME}_tester", "node4", timeout=5)
    assert journal(project) == []


def test_kill_exits_the_node_and_the_next_deploy_restarts_it(project: Project) -> None:
    fault(project, "partition", "node1", "node2,node3")
    fault(project, "kill", "node4")
    state = json.loads(docker("inspect", f"{NAME}_node4").stdout)[0]["State"]
    assert (state["Status"], state["ExitCode"]) == ("exited", 137)
    result = project.deploy()
    plan = plan_lines(result)
    heal = [line for line in plan if line.startswith("heal-faults")]
    assert heal[0].startswith(f"heal-faults {NAME}: 2 active faults (partition "), plan
    assert plan.index(heal[0]) < plan.index(f"start {NAME}_node4: not running (exited with "
                                            f"code 137)")
    assert f"start {NAME}_node4: not running (exited with code 137)" in plan
    assert docker("inspect", "-f", "{{.State.Status}}", f"{NAME}_node4").stdout.strip() == \
        "running"
    assert all(reachability().values())
    assert_nothing_left(project, containers())
    assert not [line for line in plan_lines(project.deploy())
                if line.startswith(("heal-faults", "start"))]  # healed: nothing to do


def netem_in_this_kernel() -> bool:
    probe = docker("run", "--rm", "--network", "none", "--cap-add", "NET_ADMIN", helper_ref(),
                   "tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms",
                   check=False)
    return probe.returncode == 0


def test_delay_needs_netem_and_says_so_in_one_line_on_this_kernel(project: Project) -> None:
    result = fault(project, "delay", "node2", "--delay", "100ms", check=False)
    if netem_in_this_kernel():  # a kernel with sch_netem: the delay must work
        try:
            rtt = docker("exec", f"{NAME}_node1", "ping", "-c", "3", "node2").stdout
            assert result.returncode == 0 and re.search(r"time=1\d\d", rtt), rtt
        finally:
            fault(project, "heal")
        return
    kernel = os.uname().release
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"local: delay needs the kernel's netem qdisc (sch_netem), which this Docker host's "
        f"kernel {kernel} does not have: tc says \"Error: Specified qdisc kind is unknown.\" "
        f"(load it on the host: modprobe sch_netem; or use a kernel built with "
        f"CONFIG_NET_SCH_NETEM)")
    assert journal(project) == []


@pytest.mark.parametrize(("args", "message"), [
    (["isolate", "node9"], "fault isolate: unknown node 'node9' (use one of node1, node2, "
                           "node3, node4, node5, tester)"),
    (["partition", "node1", ","], "fault partition: group 2 is empty (name at least one node)"),
    (["partition", "node1,node2", "node2"], "fault partition: node2 is in group 1 and in group "
                                            "2 (put each node in one group)"),
    (["loss", "node2", "--percent", "101"], "fault loss: percent 101 is out of range (give a "
                                            "percentage above 0 and at most 100, e.g. 30)"),
])
def test_bad_input_is_one_line_and_changes_nothing(project: Project, args, message) -> None:
    result = fault(project, *args, check=False)
    assert (result.returncode, result.stderr.strip(), result.stdout) == (1, message, "")
    assert journal(project) == []


# --- the schedule of `run` ---------------------------------------------------------------------


class Runner:
    """`clusterdeploy run` in the background, its stderr collected line by line."""

    def __init__(self, project: Project, *args: str) -> None:
        env = {k: v for k, v in os.environ.items() if k != "CI"}  # CI=true implies --once
        self.process = subprocess.Popen(
            [sys.executable, "-m", "clusterdeploy", "run", "--spec", str(project.spec_path),
             "--state-dir", str(project.state_dir), *args],
            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line)

    def wait_to_see(self, text: str, timeout: float = 300) -> None:
        wait_for(lambda: any(text in line for line in self.lines)
                 or self.process.poll() is not None, timeout=timeout)
        assert any(text in line for line in self.lines), "".join(self.lines)[-4000:]


def scheduled(project: Project, schedule: list[dict], suite: list[str], seed: int = 7) -> None:
    def change(spec: dict) -> None:
        spec["faults"] = {"seed": seed, "schedule": schedule}
        spec["tester"]["command"] = suite
    project.edit_spec(change)


def latest_logs(project: Project) -> Path:
    return (project.root / "docker-test" / "logs" / "latest").resolve()


@pytest.fixture
def restore_spec(project: Project) -> Iterator[None]:
    shipped = project.spec()
    yield
    project.write_spec(shipped)


def test_sigint_in_the_middle_of_a_scheduled_partition_heals_it(project: Project,
                                                                restore_spec: None) -> None:
    scheduled(project, [{"fault": "partition", "groups": [["node1", "node2"]], "at": "1s",
                         "for": "60s"}], ["sleep", "60"])
    runner = Runner(project)
    runner.wait_to_see("fault s1-partition started")
    assert not tcp_ok(f"{NAME}_node1", "node3")
    runner.process.send_signal(signal.SIGINT)
    assert runner.process.wait(timeout=120) == 130
    output = "".join(runner.lines)
    assert "faults healed: s1-partition" in output
    assert output.index("faults healed") < output.index("graceful shutdown")
    assert journal(project) == []
    logs = latest_logs(project)
    events = [json.loads(line) for line in (logs / "cluster.log").read_text().splitlines()]
    nemesis = [(e["event"], e["id"]) for e in events if e["container"] == "nemesis"]
    assert nemesis[-2:] == [("start", "s1-partition"), ("end", "s1-partition")]
    end = next(i for i, e in enumerate(events) if e.get("event") == "end"
               and e.get("id") == "s1-partition")
    stopped = [i for i, e in enumerate(events) if e.get("message") == "shutting down"
               and e["container"] == f"{NAME}_node1"]
    assert stopped and stopped[-1] > end  # healed before the nodes were stopped
    assert json.loads((logs / "faults.json").read_text())[0]["id"] == "s1-partition"
    assert docker("ps", "-aq", "--filter", f"label={HELPER_LABEL}={NAME}").stdout == ""


def test_a_sigkilled_runner_leaves_nothing_fault_heal_cannot_clean(project: Project,
                                                                   restore_spec: None) -> None:
    scheduled(project, [{"fault": "isolate", "nodes": "node3", "at": "0s"},
                        {"fault": "pause", "nodes": "node5", "at": "0s"}], ["sleep", "120"])
    runner = Runner(project)
    runner.wait_to_see("fault s2-pause started")
    runner.wait_to_see("fault s1-isolate started")
    runner.process.send_signal(signal.SIGKILL)
    runner.process.wait(timeout=30)
    assert journal(project) == ["s1-isolate.json", "s2-pause.json"]
    assert "clusterdeploy:s1-isolate" in in_namespace(f"{NAME}_node3")
    healed = fault(project, "heal")
    assert "breaking the lock" in healed.stdout  # the runner that held it is gone
    assert "s1-isolate healed" in healed.stdout and "s2-pause healed" in healed.stdout
    assert docker("inspect", "-f", "{{.State.Status}}", f"{NAME}_node5").stdout.strip() == \
        "running"
    assert all(reachability().values())
    assert_nothing_left(project, containers())


def test_the_same_seed_writes_the_same_concrete_schedule(project: Project,
                                                         restore_spec: None) -> None:
    scheduled(project, [{"fault": "partition", "shape": "halves", "every": "2s", "times": 2,
                         "for": "1s"},
                        {"fault": "partition", "shape": "majority-ring", "at": "4s",
                         "for": "1s"}], ["sleep", "20"], seed=1234)
    written = []
    for extra in ([], ["--seed", "1234"]):  # the spec's seed, then the same one as an option
        result = cli(project, "run", "--once", *extra, timeout=600)
        assert "faults: seed 1234, 3 scheduled" in result.stderr
        written.append((latest_logs(project) / "faults.json").read_text())
        nemesis = [json.loads(line) for line in (latest_logs(project) / "nemesis.log")
                   .read_text().splitlines()]
        assert {(e["event"], e["id"]) for e in nemesis} >= {
            ("start", "s1-1-partition"), ("end", "s1-1-partition"), ("start", "s2-partition")}
        ours = {p["id"] for p in json.loads(written[-1])}
        assert {e["seed"] for e in nemesis if e["id"] in ours} == {1234}
        project.edit_spec(lambda spec: spec["faults"].update(seed=5))  # overridden by --seed
    assert written[0] == written[1]
    assert json.loads(written[0])[0]["detail"]["shape"] == "halves"
    assert journal(project) == []
    project.deploy()  # the runs stopped the cluster; the next tests need it up


# --- NATS: an image without iptables, a node without NET_ADMIN ---------------------------------


@pytest.fixture(scope="module")
def nats(engine: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    remove_everything(NATS)
    root = tmp_path_factory.mktemp("faults-nats") / "nats"
    shutil.copytree(REPO / "examples" / "nats", root, ignore=shutil.ignore_patterns("logs"))
    project = Project(root, root.parent / "state")

    def rename(spec: dict) -> None:
        spec["name"] = NATS
        spec["network"] = {"name": f"{NATS}Net", "subnet": "172.28.218.128/25"}
        spec["nodes"]["container_name"] = f"{NATS}_{{i}}"
        spec["nodes"]["publish"]["base"] = 41860
        spec["tester"]["container_name"] = f"{NATS}_tester"
    project.edit_spec(rename)
    project.deploy()
    yield project
    remove_everything(NATS)


def nats_reaches(source: int, target: int) -> bool:
    return docker("exec", f"{NATS}_{source}", "curl", "-sS", "-o", "/dev/null", "-m", "2",
                  f"http://nats{target}:8222/healthz", check=False).returncode == 0


def test_a_partition_of_nats_needs_nothing_in_its_image(nats: Project) -> None:
    assert docker("exec", f"{NATS}_1", "sh", "-c", "command -v iptables tc",
                  check=False).stdout == ""
    result = fault(nats, "isolate", "nats1")
    assert "isolate nats1 | nats2,nats3" in result.stdout
    try:
        assert not nats_reaches(1, 2) and not nats_reaches(3, 1)
        assert nats_reaches(2, 3)
        assert docker("exec", f"{NATS}_tester", "curl", "-sS", "-m", "2",
                      "http://nats1:8222/healthz", check=False).returncode == 0
    finally:
        fault(nats, "heal")
    assert nats_reaches(1, 2) and nats_reaches(3, 1)
    assert_nothing_left(nats, [f"{NATS}_{i}" for i in (1, 2, 3)], cluster=NATS)
