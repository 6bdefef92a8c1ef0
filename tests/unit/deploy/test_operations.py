"""The pyinfra layer, tested the way pyinfra tests its own operations: a spec and an observed
state from fixtures -> the plan -> the exact commands each operation yields. No Docker: scripts
that run on the host run here under a real shell against tests/unit/fakedocker.py."""

from __future__ import annotations

import dataclasses
import itertools
import re
import shlex
import time
from typing import Any

import pytest
from pyinfra.api import StringCommand
from pyinfra.context import ctx_host
from unitlib import FakeDocker, base_doc, desired_for, observed_from, replace_container

from clusterdeploy.clusterspec import Host, load_spec
from clusterdeploy.core.actions import Kind
from clusterdeploy.core.observed import ObservedState
from clusterdeploy.core.plan import plan
from clusterdeploy.core.teardown import plan_teardown
from clusterdeploy.deploy import finish, operations, phases
from clusterdeploy.deploy.context import ApplyContext
from clusterdeploy.deploy.phases import PHASES, apply
from clusterdeploy.deploy.waiting import wait_healthy

LOCAL = Host(name="local", ssh=None, images="ship")
FILES = "/var/lib/clusterdeploy/ci"


class RecordingHost:
    """Stands in for pyinfra's host inside an operation: records noops."""

    name = "@local"

    def __init__(self) -> None:
        self.noops: list[str] = []

    def noop(self, text: str) -> None:
        self.noops.append(text)


def run_op(op: Any, actions: list[Any], **context: Any) -> tuple[RecordingHost, list[Any]]:
    host = RecordingHost()
    with ctx_host.use(host):
        yielded = list(op._inner(actions=actions,
                                 context=ApplyContext(cluster="ci", host=LOCAL, **context)))
    return host, yielded


def lines(commands: list[Any]) -> list[str]:
    return [str(c) for c in commands if isinstance(c, StringCommand)]


def of(actions: list[Any], *kinds: Kind) -> list[Any]:
    return [a for a in actions if a.kind in kinds]


@pytest.fixture
def desired(load):
    return desired_for(load(base_doc(count=3), "three.yml"))


@pytest.fixture
def project_desired(project):
    return desired_for(load_spec(project / "cluster.yml"))


# --- the phase table ----------------------------------------------------------------------------


def test_every_action_kind_is_executed_by_exactly_one_phase():
    for kind in Kind:
        phases = [p.title for p in PHASES if kind in p.kinds]
        assert len(phases) == 1, f"{kind} is executed by {phases or 'no phase'}"


def test_apply_hands_each_phase_exactly_its_actions_in_plan_order(desired, monkeypatch):
    received: list[tuple[str, list[str]]] = []
    recording = tuple(dataclasses.replace(
        phase, operation=lambda name, actions, context, title=phase.title:
        received.append((title, [str(a) for a in actions]))) for phase in PHASES)
    monkeypatch.setattr("clusterdeploy.deploy.phases.PHASES", recording)
    actions = plan(desired, ObservedState())
    apply(actions, ApplyContext(cluster="ci", host=LOCAL))
    assert received == [(p.title, [str(a) for a in actions if a.kind in p.kinds])
                        for p in PHASES if not p.spread_only
                        and any(a.kind in p.kinds for a in actions)]
    assert dict(received)["Containers"] == [f"create ci_{m}: missing"
                                      for m in ("node1", "node2", "node3", "tester")]
    received.clear()  # a cluster over several hosts: every phase, the swarm's too
    apply(actions, ApplyContext(cluster="ci", host=LOCAL, spans_hosts=True))
    assert [title for title, _ in received] == [p.title for p in PHASES]
    assert received[0] == ("Swarm", [])


def test_one_host_runs_no_operation_for_an_empty_plan(monkeypatch):
    received: list[str] = []
    recording = tuple(dataclasses.replace(
        phase, operation=lambda name, actions, context: received.append(name))
        for phase in PHASES)
    monkeypatch.setattr("clusterdeploy.deploy.phases.PHASES", recording)
    apply([], ApplyContext(cluster="ci", host=LOCAL))
    assert received == []


@pytest.mark.parametrize("op", [phase.operation for phase in PHASES])
def test_an_operation_without_actions_is_a_noop(op):
    host, yielded = run_op(op, [])
    assert yielded == [] and len(host.noops) == 1


# --- images ---------------------------------------------------------------------------------------


def test_cold_images_are_built_in_order_on_the_local_engine(project_desired):
    actions = of(plan(project_desired, ObservedState()), Kind.BUILD, Kind.TAG)
    _, yielded = run_op(operations.images, actions)
    assert [(c.function.__name__, c.args[0].image.key, c.args[0].tag_latest)
            for c in yielded] == [("_run_build", "builder", True), ("_run_build", "node", True)]


def test_shipped_images_carry_what_they_are_built_from(project_desired):
    node = project_desired.images[-1]
    observed = observed_from(project_desired)
    images = {k: v for k, v in observed.images.items() if not k.startswith("my-db:")}
    actions = of(plan(project_desired, dataclasses.replace(observed, images=images)), Kind.BUILD)
    _, [command] = run_op(operations.images, actions, how="ship")
    action, host_name = command.args
    assert (command.function.__name__, action.image, host_name) == ("_run_ship", node, "local")
    assert [i.key for i in action.requires] == ["builder"]


def test_remote_build_uploads_the_context(project_desired):
    actions = of(plan(project_desired, ObservedState()), Kind.BUILD)
    _, yielded = run_op(operations.images, actions, how="build")
    assert [c.function.__name__ for c in yielded] == ["_run_remote_build"] * 2


def test_a_moved_latest_tag_is_retagged(project_desired):
    observed = observed_from(project_desired)
    node = project_desired.images[-1]
    older = "sha256:" + "0" * 64
    observed = dataclasses.replace(observed, images={**observed.images, node.latest: older},
                                   own_images=observed.own_images | {older})
    _, yielded = run_op(operations.images, of(plan(project_desired, observed), Kind.TAG))
    assert lines(yielded) == [f"docker tag -- {node.ref} my-db:latest"]


# --- teardown: logs, stop or kill, remove -------------------------------------------------------


def teardown_actions(desired, force):
    return plan_teardown("ci", observed_from(desired), FILES, force=force)


def ids(desired):
    return " ".join(c.id for c in observed_from(desired).containers)


def test_graceful_teardown_stops_every_container_at_once(desired):
    _, yielded = run_op(operations.stop, of(teardown_actions(desired, False), Kind.STOP,
                                           Kind.KILL))
    assert lines(yielded) == [f"docker stop -- {ids(desired)}"]


def test_forced_teardown_kills_every_container_at_once(desired):
    _, yielded = run_op(operations.stop, of(teardown_actions(desired, True), Kind.STOP,
                                           Kind.KILL))
    assert lines(yielded) == [f"docker kill -- {ids(desired)}"]


def test_teardown_removes_containers_then_its_network_then_its_files(desired):
    actions = teardown_actions(desired, False)
    _, removed = run_op(operations.remove, of(actions, Kind.REMOVE))
    assert lines(removed) == [f"docker stop -- {ids(desired)}",
                              f"docker rm --force --volumes -- {ids(desired)}"]
    _, network = run_op(operations.network, of(actions, Kind.REMOVE_NETWORK))
    assert lines(network) == ["docker network rm -- netDB"]
    _, files = run_op(operations.files, of(actions, Kind.REMOVE_FILES))
    assert [c.connector_arguments["_stdin"] for c in files] == [f"set -e\nrm -rf -- {FILES}"]


def test_teardown_collects_every_containers_logs_first(desired, tmp_path):
    actions = teardown_actions(desired, False)
    assert actions[0].kind == Kind.COLLECT_LOGS
    _, [command] = run_op(operations.collect_logs, actions[:1], logs_dir=tmp_path)
    action, context = command.args
    assert [c.name for c in action.containers] == [c.name for c in desired.containers]
    assert context.logs_dir == tmp_path


def test_teardown_leaves_other_clusters_networks_alone(desired):
    observed = observed_from(desired)
    theirs = dataclasses.replace(observed.networks[0], id="n2", name="theirs",
                                 labels={"io.clusterdeploy.cluster": "other"})
    observed = dataclasses.replace(observed, networks=(*observed.networks, theirs))
    actions = plan_teardown("ci", observed, FILES)
    assert [str(a) for a in of(actions, Kind.REMOVE_NETWORK)] == ["remove-network netDB: teardown"]


# --- network, files, containers -------------------------------------------------------------------


def test_cold_network_is_created_labelled(desired):
    _, yielded = run_op(operations.network, of(plan(desired, ObservedState()),
                                               Kind.CREATE_NETWORK))
    assert lines(yielded) == [
        "docker network create --driver bridge --subnet 172.28.0.0/24 --gateway 172.28.0.1 "
        f"--label io.clusterdeploy.cluster=ci --label io.clusterdeploy.config-hash="
        f"{desired.network.config_hash} -- netDB"]


def test_a_recreated_network_is_emptied_of_the_clusters_containers_first(load, desired):
    doc = base_doc(count=3)
    doc["network"]["subnet"] = "172.29.0.0/24"
    moved = desired_for(load(doc, "moved.yml"))
    observed = observed_from(desired)
    actions = plan(moved, observed)
    _, yielded = run_op(operations.network, of(actions, Kind.REMOVE_NETWORK,
                                               Kind.CREATE_NETWORK))
    assert lines(yielded)[:5] == [
        *[f"docker network disconnect --force -- netDB ci_{m}"
          for m in ("node1", "node2", "node3", "tester")],
        "docker network rm -- netDB"]
    assert lines(yielded)[5].startswith("docker network create --driver bridge --subnet "
                                        "172.29.0.0/24")


def test_files_are_written_per_container_directory(desired, tmp_path):
    actions = of(plan(desired, ObservedState()), Kind.WRITE_FILE)
    _, [command] = run_op(operations.files, actions)
    state = tmp_path / "state"
    script = command.connector_arguments["_stdin"].replace(FILES, str(state))
    FakeDocker(tmp_path / "fake").run(script)
    written = sorted(str(p.relative_to(state)) for p in state.rglob("*") if p.is_file())
    assert written == [".clusterdeploy", *[f"ci_{m}/{f}" for m in ("node1", "node2", "node3",
                                                                    "tester")
                                           for f in (".clusterdeploy", "Cluster.config",
                                                     "setup.sh")]]


def ordered_units_of(desired, observed, **context):
    actions = of(plan(desired, observed), Kind.CREATE, Kind.RECREATE, Kind.START)
    _, [command] = run_op(operations.containers, actions, parallelism=3, **context)
    units, limit, _images, where, (_private, environments), first_alone = command.args
    assert set(environments) == {f"{a.container.name}.env" for a in actions
                                 if a.kind != Kind.START}
    assert (command.function.__name__, limit, where) == ("_run_parallel", 3, "local")
    assert first_alone == context.get("spans_hosts", False)
    return [(name, [shlex.join(c) for c in commands]) for name, commands in units]


def units_of(desired, observed, **context):
    return dict(ordered_units_of(desired, observed, **context))


def test_create_recreate_and_start_units(load, desired):
    doc = base_doc(count=3)
    doc["nodes"][1]["environment"] = {"FOO": "bar"}
    changed = desired_for(load(doc, "changed.yml"))
    observed = replace_container(observed_from(desired), "ci_node3", status="exited")
    observed = dataclasses.replace(observed, containers=tuple(
        c for c in observed.containers if c.name != "ci_tester"))
    old = observed.container("ci_node2")
    units = units_of(changed, observed)
    assert units["ci_node2"][:2] == [f"docker stop -- {old.id}",
                                     f"docker rm --force --volumes -- {old.id}"]
    assert units["ci_node2"][2].startswith("docker create --name ci_node2 ")
    assert re.search(r" --env-file /tmp/clusterdeploy-[0-9a-f]{32}/ci_node2.env ",
                     units["ci_node2"][2])
    assert units["ci_node2"][3] == "docker start -- ci_node2"
    assert units["ci_node3"] == ["docker start -- ci_node3"]
    assert [u.split()[:4] for u in units["ci_tester"]] == [
        ["docker", "create", "--name", "ci_tester"], ["docker", "start", "--", "ci_tester"]]
    assert "ci_node1" not in units


SETTLE = "sh -c '[ -n \"$(docker ps -q --filter \"label=$1\")\" ] || sleep \"$2\"' settle " \
         "io.clusterdeploy.cluster=ci 5"


def test_on_an_overlay_new_containers_come_first_and_an_emptied_host_settles(load, desired):
    """A host's part of an overlay is torn down when its last container leaves: units that
    add a container go first (the first alone), a replacement that empties the host waits."""
    doc = base_doc(count=3)
    doc["nodes"][1]["environment"] = {"FOO": "bar"}
    changed = desired_for(load(doc, "changed.yml"))
    observed = observed_from(desired)
    observed = dataclasses.replace(observed, containers=tuple(
        c for c in observed.containers if c.name != "ci_tester"))
    units = ordered_units_of(changed, observed, spans_hosts=True)
    assert [name for name, _ in units] == ["ci_tester", "ci_node2"]
    assert units[1][1][2] == SETTLE
    assert units[1][1][3].startswith("docker create --name ci_node2 ")
    assert SETTLE not in units_of(changed, observed)["ci_node2"]  # one host: a bridge


def test_removing_settles_only_on_an_overlay_host_that_gets_containers_next(desired):
    actions = of(teardown_actions(desired, False), Kind.REMOVE)
    for spans, follow, settles in ((True, True, True), (True, False, False),
                                   (False, True, False)):
        _, removed = run_op(operations.remove, actions, spans_hosts=spans,
                            containers_follow=follow)
        assert (SETTLE in lines(removed)) is settles, (spans, follow)


def test_apply_tells_the_phases_whether_containers_follow(desired, monkeypatch):
    seen = {}

    def record(name, actions, context):
        seen[name.split(" (")[0]] = context.containers_follow
    monkeypatch.setattr(phases, "PHASES", tuple(
        dataclasses.replace(p, operation=record) for p in phases.PHASES))
    phases.apply(teardown_actions(desired, False), ApplyContext(cluster="ci", host=LOCAL))
    assert seen and not any(seen.values())
    seen.clear()
    phases.apply(plan(desired, ObservedState()), ApplyContext(cluster="ci", host=LOCAL))
    assert seen["Containers"] is True and all(seen.values())


class ShellHost:
    """A pyinfra host whose commands run here under bash against the fake docker."""

    name = "@local"

    def __init__(self, fake: FakeDocker) -> None:
        self.fake = fake
        self.logged: list[str] = []

    def run_shell_command(self, command: StringCommand, _stdin: str = "",
                          print_output: bool = False) -> tuple[bool, Any]:
        result = self.fake.run(_stdin or f"{command}\n", shell="bash")
        output = type("Output", (), {"stdout": result.stdout,
                                     "stdout_lines": result.stdout.splitlines(),
                                     "output": result.stdout + result.stderr,
                                     "output_lines": (result.stdout + result.stderr).splitlines()})
        return result.returncode == 0, output

    def log_styled(self, text: str, **kwargs: Any) -> None:
        self.logged.append(text)


def max_overlap(calls: list[dict[str, Any]]) -> int:
    events = sorted(itertools.chain.from_iterable(
        ((c["start"], 1), (c["end"], -1)) for c in calls), key=lambda e: (e[0], e[1]))
    running = best = 0
    for _, step in events:
        running += step
        best = max(best, running)
    return best


@pytest.mark.parametrize("limit", [1, 3])
def test_the_parallelism_limit_bounds_concurrent_units(load, fake_docker, limit):
    desired = desired_for(load(base_doc(count=7), "seven.yml"))
    actions = of(plan(desired, ObservedState()), Kind.CREATE)
    _, [command] = run_op(operations.containers, actions, parallelism=limit)
    fake_docker.state = {"sleep": 0.3}
    assert command.execute(None, ShellHost(fake_docker), {}) is True
    creates = [c for c in fake_docker.calls() if c["command"] == "create"]
    assert len(creates) == 8
    assert max_overlap(creates) == limit


def test_a_failing_unit_is_explained_naming_host_and_container(load, fake_docker):
    desired = desired_for(load(base_doc(count=1), "one.yml"))
    actions = of(plan(desired, ObservedState()), Kind.CREATE)
    _, [command] = run_op(operations.containers, actions)
    fake_docker.state = {"fail": {"create": "Error response from daemon: driver failed "
                                            "programming external connectivity: Bind for "
                                            "127.0.0.1:40401 failed: port is already allocated"}}
    host = ShellHost(fake_docker)
    assert command.execute(None, host, {}) is False
    assert "local: ci_node1: host port 127.0.0.1:40401 is already in use" in host.logged[0]


# --- the health wait --------------------------------------------------------------------------


def test_the_wait_covers_exactly_the_actions_containers(desired):
    actions = of(plan(desired, ObservedState()), Kind.WAIT)
    _, [command] = run_op(finish.wait, actions, poll=0.5)
    assert command.function is wait_healthy
    assert command.args == (desired.containers, 0.5, "local")


def test_wait_healthy_reports_an_exited_container_with_its_log_tail(desired, fake_docker):
    host = ShellHost(fake_docker)
    inspect = "\n".join(f"/{c.name}\t{'exited' if c.name == 'ci_node2' else 'running'}\t"
                        f"{'' if c.name == 'ci_tester' else 'healthy'}\t"
                        f"{'3' if c.name == 'ci_node2' else '0'}" for c in desired.containers)

    def run(command: StringCommand, **kwargs: Any) -> tuple[bool, Any]:
        text = inspect if "inspect" in str(command) else "panic: no config"
        output = type("Output", (), {"stdout_lines": text.splitlines(),
                                     "output_lines": text.splitlines()})
        return True, output
    host.run_shell_command = run  # type: ignore[method-assign]
    assert wait_healthy(None, host, desired.containers, 0.01, "local") is False
    assert host.logged[:3] == [
        "local: ci_node2 is not ready: state exited, health healthy, exit code 3",
        "  last 20 log lines:", "    panic: no config"]


def _scripted_host(fake_docker: Any, polls: list[str]) -> ShellHost:
    """A host whose `docker inspect` answers each poll with the next of `polls` (the last one
    repeats), and whose `docker logs` says "bye"."""
    host = ShellHost(fake_docker)
    answers = iter(polls)
    last = [polls[0]]

    def run(command: StringCommand, **kwargs: Any) -> tuple[bool, Any]:
        if "inspect" in str(command):
            last[0] = next(answers, last[0])
            text = last[0]
        else:
            text = "bye"
        return True, type("Output", (), {"stdout_lines": text.splitlines(),
                                         "output_lines": text.splitlines()})
    host.run_shell_command = run  # type: ignore[method-assign]
    return host


def test_a_node_without_health_check_must_keep_running_to_be_ready(
        desired, fake_docker, monkeypatch):
    """Running at the first poll is not enough: a node that exits a moment after its start
    fails the wait, one that keeps running with the same start time passes."""
    monkeypatch.setattr("clusterdeploy.deploy.waiting.SETTLE_SECONDS", 0.05)
    [tester] = [c for c in desired.containers if c.name == "ci_tester"]
    running = "/ci_tester\trunning\t\t0\t2026-11-28T08:00:00Z"
    exited = "/ci_tester\texited\t\t137\t2026-11-28T08:00:00Z"
    host = _scripted_host(fake_docker, [running, exited])
    assert wait_healthy(None, host, [tester], 0.01, "local") is False
    assert host.logged[0].startswith("local: ci_tester is not ready: state exited")
    host = _scripted_host(fake_docker, [running])
    started = time.monotonic()
    assert wait_healthy(None, host, [tester], 0.01, "local") is True
    assert time.monotonic() - started >= 0.05


def test_a_restart_between_polls_starts_the_settle_time_again(desired, fake_docker, monkeypatch):
    monkeypatch.setattr("clusterdeploy.deploy.waiting.SETTLE_SECONDS", 0.2)
    [tester] = [c for c in desired.containers if c.name == "ci_tester"]
    polls = [f"/ci_tester\trunning\t\t0\t2026-11-28T08:00:0{i}Z" for i in range(10)]
    host = _scripted_host(fake_docker, polls)
    started = time.monotonic()
    assert wait_healthy(None, host, [tester], 0.01, "local") is True
    # ten different start times, each seen once 10 ms apart, then the last one for 0.2 s
    assert time.monotonic() - started >= 0.2 + 9 * 0.01
