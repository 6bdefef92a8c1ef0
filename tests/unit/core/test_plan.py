"""Golden plans, asserted as the text a person reads (`--dry`), for observed-state fixtures.

Observed states are built from a computed desired state (`observed_from`: everything as wanted)
and then changed, or parsed from captured `docker inspect` output (tests/fixtures/observe).
Image content hashes are shown as <hash> (see `plan_text`).
"""

from __future__ import annotations

import dataclasses

import pytest
from unitlib import (
    BASE_IDS,
    FIXTURES,
    STATE_DIR,
    base_doc,
    container_id,
    desired_for,
    observed_from,
    plan_text,
    replace_container,
)

from clusterdeploy.clusterspec import load_spec
from clusterdeploy.core import labels
from clusterdeploy.core.actions import Kind, Recreate
from clusterdeploy.core.desired import desired_state
from clusterdeploy.core.hashing import sha256_bytes
from clusterdeploy.core.observed import ObservedNetwork, ObservedState, ObservedVolume
from clusterdeploy.core.plan import plan
from clusterdeploy.core.render import render_cluster
from clusterdeploy.core.teardown import plan_teardown
from clusterdeploy.docker.observe import parse_observation
from clusterdeploy.errors import DeployError

FILES = "/var/lib/clusterdeploy/ci"
MEMBERS = ["ci_node1", "ci_node2", "ci_node3", "ci_node4", "ci_node5", "ci_tester"]


def text(actions):
    return plan_text(actions)


@pytest.fixture
def project_desired(project):
    return desired_for(load_spec(project / "cluster.yml"))


@pytest.fixture
def desired(load):
    return desired_for(load(base_doc(), "five.yml"))


def test_action_str_is_one_line(desired):
    observed = observed_from(desired)
    action = Recreate(cause="environment changed: FOO", container=desired.containers[2],
                      old=observed.containers[2])
    assert str(action) == "recreate ci_node3: environment changed: FOO"


def test_cold_deploy_on_an_empty_host(project_desired):
    assert text(plan(project_desired, ObservedState())) == "\n".join([
        "build go-builder:<hash>: not on the host (builder)",
        "build my-db:<hash>: not on the host (node)",
        "create-network netDB: missing (subnet 172.28.0.0/24)",
        *[f"write-file {FILES}/{m}/{f}: missing" for m in MEMBERS
          for f in ("Cluster.config", "setup.sh")],
        *[f"create {m}: missing" for m in MEMBERS],
        "wait healthy: 6 containers (re)started",
    ])


def test_everything_matching_is_an_empty_plan(project_desired):
    assert plan(project_desired, observed_from(project_desired)) == []


def test_one_environment_change_recreates_exactly_that_node(load, desired):
    doc = base_doc()
    doc["nodes"][2]["environment"] = {"FOO": "bar"}
    changed = desired_for(load(doc, "changed.yml"))
    assert text(plan(changed, observed_from(desired))) == (
        "collect-logs 1 container: before they are removed or replaced\n"
        "recreate ci_node3: environment changed: FOO\n"
        "wait healthy: 1 container (re)started")


def test_changed_environment_value_is_named(load):
    one, two = base_doc(), base_doc()
    one["defaults"]["environment"] = {"CFG_PATH": "/root/Cluster.config", "LEVEL": "1"}
    two["defaults"]["environment"] = {"CFG_PATH": "/root/Cluster.config", "LEVEL": "2"}
    before, after = desired_for(load(one, "one.yml")), desired_for(load(two, "two.yml"))
    assert text(plan(after, observed_from(before))).splitlines()[1] == (
        "recreate ci_node1: environment changed: LEVEL")


def test_several_changes_are_all_named(load, desired):
    doc = base_doc()
    doc["nodes"][0].update(environment={"FOO": "1"}, ports=["127.0.0.1:40411:40404"])
    changed = desired_for(load(doc, "changed.yml"))
    assert text(plan(changed, observed_from(desired))).splitlines()[1] == (
        "recreate ci_node1: environment changed: FOO; ports changed")


def test_stopped_container_is_started_with_its_exit_code(desired):
    observed = replace_container(observed_from(desired), "ci_node3", status="exited",
                                 exit_code=137, health="unhealthy")
    assert text(plan(desired, observed)) == (
        "start ci_node3: not running (exited with code 137)\n"
        "wait healthy: 1 container (re)started")


def test_created_but_never_started_container_is_started(desired):
    observed = replace_container(observed_from(desired), "ci_node2", status="created")
    assert text(plan(desired, observed)).splitlines()[0] == "start ci_node2: not running (created)"


def test_running_but_unhealthy_container_is_waited_for(desired):
    observed = replace_container(observed_from(desired), "ci_node2", health="starting")
    assert text(plan(desired, observed)) == "wait healthy: ci_node2 not healthy"


def test_removed_node_is_removed_with_its_files(load, desired):
    six = desired_for(load(base_doc(count=6), "six.yml"))
    full = observed_from(six)
    extra = full.container("ci_node6")
    observed = dataclasses.replace(
        observed_from(desired),
        containers=(*observed_from(desired).containers, extra),
        files={**observed_from(desired).files,
               **{p: d for p, d in full.files.items() if "/ci_node6/" in p}},
    )
    assert text(plan(desired, observed)) == (
        "collect-logs 1 container: before they are removed or replaced\n"
        "remove ci_node6: no longer in the spec\n"
        f"remove-files {FILES}/ci_node6: no longer in the spec")


def test_removing_a_node_rewrites_the_replica_table_everywhere(load, desired):
    six = desired_for(load(base_doc(count=6), "six.yml"))
    assert text(plan(desired, observed_from(six))) == "\n".join([
        "collect-logs 7 containers: before they are removed or replaced",
        "remove ci_node6: no longer in the spec",
        *[f"write-file {FILES}/{m}/Cluster.config: content changed" for m in MEMBERS],
        *[f"recreate {m}: files changed: Cluster.config" for m in MEMBERS],
        "wait healthy: 6 containers (re)started",
        f"remove-files {FILES}/ci_node6: no longer in the spec",
    ])


def test_edited_file_on_the_host_is_rewritten(desired):
    observed = observed_from(desired)
    path = f"{FILES}/ci_node2/Cluster.config"
    observed = dataclasses.replace(observed, files={**observed.files, path: "0" * 64})
    assert text(plan(desired, observed)) == f"write-file {path}: content changed"


@pytest.mark.parametrize(("owner", "whose"), [("", "no clusterdeploy cluster"),
                                              ("other", "cluster 'other'")])
def test_foreign_container_with_a_desired_name_is_an_error(desired, owner, whose):
    observed = dataclasses.replace(ObservedState(), names={"ci_node2": owner, "unrelated": ""})
    with pytest.raises(DeployError) as info:
        plan(desired, observed, host="local")
    assert str(info.value) == (
        f"local: container ci_node2 already exists and belongs to {whose}; clusterdeploy leaves "
        "it alone (remove or rename it, or choose another container_name for node2)")


def foreign_network(name="netDB", subnet="172.28.0.0/24", cluster=""):
    return ObservedNetwork(id=container_id(name), name=name,
                           labels={labels.CLUSTER: cluster} if cluster else {},
                           subnets=(subnet,), containers={})


def test_foreign_network_with_the_desired_name_is_an_error(desired):
    observed = ObservedState(networks=(foreign_network(),))
    with pytest.raises(DeployError) as info:
        plan(desired, observed)
    assert str(info.value) == (
        "network netDB already exists and belongs to no clusterdeploy cluster; clusterdeploy "
        "leaves it alone (remove it, or set network.name to another name)")


def test_every_ownership_problem_is_reported_at_once(desired):
    observed = ObservedState(names={"ci_node1": "", "ci_tester": "x"},
                             networks=(foreign_network(cluster="x"),))
    with pytest.raises(DeployError) as info:
        plan(desired, observed)
    assert [line.split(" already")[0] for line in str(info.value).splitlines()] == [
        "container ci_node1", "container ci_tester", "network netDB"]


def resubnet(load):
    doc = base_doc()
    doc["network"]["subnet"] = "172.29.0.0/24"
    return desired_for(load(doc, "resubnet.yml"))


def test_subnet_change_with_a_foreign_container_attached_is_an_error(load, desired):
    observed = observed_from(desired)
    net = observed.networks[0]
    net = dataclasses.replace(net, containers={**net.containers, "f" * 64: "intruder"})
    with pytest.raises(DeployError) as info:
        plan(resubnet(load), dataclasses.replace(observed, networks=(net,)), host="local")
    assert str(info.value) == (
        "local: network netDB must be recreated (subnet 172.28.0.0/24 -> 172.29.0.0/24) but "
        "containers outside the cluster use it: intruder (disconnect them first)")


def test_subnet_change_recreates_network_and_every_container(load, desired):
    lines = text(plan(resubnet(load), observed_from(desired))).splitlines()
    assert lines[1:3] == ["remove-network netDB: its settings changed",
                         "create-network netDB: subnet 172.29.0.0/24"]
    assert [line for line in lines if line.startswith("recreate")] == [
        f"recreate {m}: network netDB is recreated" for m in MEMBERS]
    assert lines[-1] == "wait healthy: 6 containers (re)started"


def test_stale_network_of_the_cluster_is_removed(desired):
    observed = observed_from(desired)
    stale = foreign_network(name="oldnet", subnet="172.30.0.0/24", cluster="ci")
    observed = dataclasses.replace(observed, networks=(*observed.networks, stale))
    assert text(plan(desired, observed)) == "remove-network oldnet: no longer in the spec"


def test_missing_image_is_built(project_desired):
    observed = observed_from(project_desired)
    node = project_desired.images[-1]
    images = {k: v for k, v in observed.images.items() if k not in (node.ref, node.latest)}
    assert text(plan(project_desired, dataclasses.replace(observed, images=images))) == (
        "build my-db:<hash>: not on the host (node)")


def test_changed_source_rebuilds_and_recreates(project):
    before = desired_for(load_spec(project / "cluster.yml"))
    (project / "cmd" / "main.go").write_text("package main\n\nfunc main() { println(3) }\n")
    after = desired_for(load_spec(project / "cluster.yml"))
    lines = text(plan(after, observed_from(before))).splitlines()
    assert "build my-db:<hash>: content changed (node)" in lines
    assert [line for line in lines if line.startswith("recreate")] == [
        f"recreate {m}: image changed" for m in MEMBERS]


def test_latest_tag_pointing_at_an_older_build_is_retagged(project_desired):
    observed = observed_from(project_desired)
    node = project_desired.images[-1]
    older = "sha256:" + "0" * 64
    observed = dataclasses.replace(observed, images={**observed.images, node.latest: older},
                                   own_images=observed.own_images | {older})
    assert text(plan(project_desired, observed)) == "tag my-db:latest: points to my-db:<hash>"


def test_a_latest_tag_of_someone_elses_image_is_never_moved(project_desired):
    observed = observed_from(project_desired)
    node = project_desired.images[-1]
    theirs = "sha256:" + "f" * 64
    observed = dataclasses.replace(observed, images={**observed.images, node.latest: theirs})
    assert plan(project_desired, observed) == []
    images = {k: v for k, v in observed.images.items() if k != node.ref}
    [build] = plan(project_desired, dataclasses.replace(observed, images=images))[:1]
    assert (str(build).startswith("build my-db:"), build.tag_latest) == (True, False)


# --- a plan from captured `docker inspect` output -----------------------------------------------


def captured_desired(load):
    doc = base_doc(count=2)
    doc["defaults"]["image"] = "debian:bookworm"
    return desired_for(load(doc, "two.yml"), captured().images)


def captured():
    return parse_observation((FIXTURES / "observe" / "two-nodes-one-exited.txt").read_text(),
                             "ci", "local")


def test_plan_from_captured_observation(load):
    observed = captured()
    desired = captured_desired(load)
    # The capture's config-hash labels come from another spec: re-stamp them, so the plan
    # shows what the captured *state* (running, exited, missing) calls for.
    for c in desired.containers:
        if observed.container(c.name):
            observed = replace_container(observed, c.name, labels={
                **observed.container(c.name).labels, labels.CONFIG_HASH: c.config_hash})
    net = dataclasses.replace(observed.networks[0], labels={
        labels.CLUSTER: "ci", labels.CONFIG_HASH: desired.network.config_hash})
    observed = dataclasses.replace(observed, networks=(net,))
    assert text(plan(desired, observed)) == "\n".join([
        *[f"write-file {FILES}/ci_node{i}/{f}: content changed" for i in (1, 2)
          for f in ("Cluster.config", "setup.sh")],
        f"write-file {FILES}/ci_tester/Cluster.config: missing",
        f"write-file {FILES}/ci_tester/setup.sh: missing",
        "start ci_node2: not running (exited with code 137)",
        "create ci_tester: missing",
        "wait healthy: 2 containers (re)started",
    ])


def test_captured_containers_with_another_config_are_recreated(load):
    observed = captured()
    desired = captured_desired(load)
    net = dataclasses.replace(observed.networks[0], labels={
        labels.CLUSTER: "ci", labels.CONFIG_HASH: desired.network.config_hash})
    observed = dataclasses.replace(observed, networks=(net,))
    # The capture has no config label to compare with: the cause cannot be more precise.
    assert [line for line in text(plan(desired, observed)).splitlines()
            if line.startswith(("recreate", "create ", "start"))] == [
        "recreate ci_node1: config changed",
        "recreate ci_node2: config changed",
        "create ci_tester: missing",
    ]


def test_captured_network_with_another_config_is_recreated(load):
    observed = captured()
    lines = text(plan(captured_desired(load), observed)).splitlines()
    assert lines[1:3] == ["remove-network netDB: its settings changed",
                         "create-network netDB: subnet 172.28.0.0/24"]


# --- drift: the wiring Docker reports against the config -----------------------------------------


def rewired(observed, name, **changes):
    container = observed.container(name)
    return replace_container(observed, name, attachment=dataclasses.replace(
        container.attachment, **changes))


def test_a_node_disconnected_from_the_network_is_recreated(desired):
    observed = rewired(observed_from(desired), "ci_node2", networks={})
    assert text(plan(desired, observed)) == (
        "collect-logs 1 container: before they are removed or replaced\n"
        "recreate ci_node2: not attached to netDB\nwait healthy: 1 container (re)started")


def test_a_node_on_another_address_or_without_its_alias_is_recreated(desired):
    observed = rewired(observed_from(desired), "ci_node2",
                       networks={"netDB": ("172.28.0.9", ("abc123",))})
    assert text(plan(desired, observed)).splitlines()[1] == (
        "recreate ci_node2: address 172.28.0.9, want 172.28.0.3; alias node2 missing on netDB")


def test_a_node_also_on_another_network_is_recreated(desired):
    node = observed_from(desired).container("ci_node1")
    observed = rewired(observed_from(desired), "ci_node1",
                       networks={**node.attachment.networks, "bridge": ("172.17.0.2", ())})
    assert text(plan(desired, observed)).splitlines()[1] == (
        "recreate ci_node1: also attached to bridge")


def test_published_ports_mount_and_hostname_drift_are_named(desired):
    observed = rewired(observed_from(desired), "ci_node3",
                       ports=frozenset({"0.0.0.0:40403:40404/tcp"}), mounts=frozenset(),
                       hostname="other")
    assert text(plan(desired, observed)).splitlines()[1] == (
        "recreate ci_node3: published ports differ: missing 127.0.0.1:40403:40404/tcp; extra "
        "0.0.0.0:40403:40404/tcp; mount /var/lib/clusterdeploy/ci/ci_node3:/clusterdeploy:ro "
        "missing; hostname other, want node3")


def test_an_unobserved_wiring_is_no_drift(desired):
    observed = replace_container(observed_from(desired), "ci_node1", attachment=None)
    assert plan(desired, observed) == []


# --- the files root: only what clusterdeploy made -----------------------------------------------


def test_a_files_root_that_is_not_ours_is_an_error_and_nothing_is_planned(desired):
    observed = dataclasses.replace(ObservedState(), files_root_exists=True,
                                   files={f"{FILES}/photos/a.jpg": "0" * 64})
    with pytest.raises(DeployError) as info:
        plan(desired, observed, host="local")
    assert str(info.value) == (
        f"local: {FILES} exists and was not made by clusterdeploy for cluster ci; clusterdeploy "
        "writes nothing there (choose another state_dir, or remove that directory)")


def test_a_files_root_of_an_earlier_version_is_ours_when_our_containers_mount_it(desired):
    observed = observed_from(desired)
    observed = dataclasses.replace(observed, files={
        p: d for p, d in observed.files.items() if not p.endswith("/.clusterdeploy")})
    assert plan(desired, observed) == []


def test_a_directory_in_our_root_that_we_did_not_make_is_left_alone(desired):
    observed = observed_from(desired)
    observed = dataclasses.replace(observed, files={**observed.files,
                                                   f"{FILES}/notes/todo.txt": "1" * 64})
    assert plan(desired, observed) == []


def test_teardown_removes_only_a_files_root_proven_ours(desired):
    ours = observed_from(desired)
    assert str(plan_teardown("ci", ours, FILES)[-1]) == f"remove-files {FILES}: teardown"
    theirs = dataclasses.replace(ObservedState(), files_root_exists=True,
                                 files={f"{FILES}/photos/a.jpg": "0" * 64})
    assert plan_teardown("ci", theirs, FILES) == []


def test_logs_of_what_a_deploy_removes_or_replaces_are_collected_first(load, desired):
    doc = base_doc()
    doc["nodes"][0]["environment"] = {"FOO": "1"}
    changed = desired_for(load(doc, "changed.yml"))
    extra = observed_from(desired_for(load(base_doc(count=6), "six.yml"))).container("ci_node6")
    observed = observed_from(desired)
    observed = dataclasses.replace(observed, containers=(*observed.containers, extra))
    actions = plan(changed, observed)
    collect = actions[0]
    assert str(collect) == "collect-logs 2 containers: before they are removed or replaced"
    assert [c.id for c in collect.containers] == [observed.container("ci_node1").id, extra.id]
    assert collect.label == "deploy"
    assert not collect.latest  # `latest` stays the last run's or teardown's collection


def test_a_teardown_without_log_collection_plans_none(desired):
    actions = plan_teardown("ci", observed_from(desired), FILES, collect_logs=False)
    assert Kind.COLLECT_LOGS not in {a.kind for a in actions}
    assert sum(a.kind == Kind.REMOVE for a in actions) == 6


def test_a_teardown_s_collection_becomes_the_latest(desired):
    collect = plan_teardown("ci", observed_from(desired), FILES)[0]
    assert (str(collect), collect.label, collect.latest) == (
        "collect-logs 6 containers: teardown", "teardown", True)


# --- data volumes, the bootstrap, /etc/hosts ----------------------------------------------------


def with_volume(load, name="vol.yml", keep=True, count=5):
    doc = base_doc(count=count)
    doc["defaults"]["volumes"] = [{"name": "data", "path": "/var/lib/db", "keep": keep}]
    return desired_for(load(doc, name))


def observed_volume(name, cluster="ci", keep="true"):
    labels_ = {labels.CLUSTER: cluster, labels.KEEP: keep} if cluster else {}
    return ObservedVolume(name, labels_)


def test_data_volumes_are_created_before_their_containers(load):
    desired = with_volume(load)
    lines = text(plan(desired, ObservedState())).splitlines()
    creates = [line for line in lines if line.startswith("create-volume")]
    assert creates == [f"create-volume ci_node{i}_data: missing" for i in range(1, 6)]
    assert lines.index(creates[-1]) < lines.index("create ci_node1: missing")


def test_an_existing_volume_of_ours_is_kept_and_one_of_someone_else_is_an_error(load):
    desired = with_volume(load)
    ours = observed_from(desired)
    ours = dataclasses.replace(ours, volumes={v.name: observed_volume(v.name)
                                              for v in desired.volumes})
    assert plan(desired, ours) == []
    theirs = dataclasses.replace(ours, volumes={**ours.volumes,
                                                "ci_node2_data": observed_volume(
                                                    "ci_node2_data", cluster="")})
    with pytest.raises(DeployError, match="volume ci_node2_data already exists and belongs to "
                                          "no clusterdeploy cluster"):
        plan(desired, theirs)


def test_a_removed_nodes_volume_stays_unless_it_says_keep_false(load):
    four = with_volume(load, "four.yml", count=4)
    kept = {f"ci_node{i}_data": observed_volume(f"ci_node{i}_data") for i in range(1, 6)}
    observed = dataclasses.replace(observed_from(four), volumes=kept)
    assert not [a for a in plan(four, observed) if a.kind == Kind.REMOVE_VOLUME]
    dropped = {**kept, "ci_node5_data": observed_volume("ci_node5_data", keep="false")}
    actions = plan(four, dataclasses.replace(observed, volumes=dropped))
    assert [str(a) for a in actions if a.kind == Kind.REMOVE_VOLUME] == [
        "remove-volume ci_node5_data: no longer in the spec (keep: false)"]


def test_teardown_keeps_volumes_unless_asked(load):
    desired = with_volume(load)
    observed = dataclasses.replace(observed_from(desired), volumes={
        "ci_node1_data": observed_volume("ci_node1_data"),
        "ci_node2_data": observed_volume("ci_node2_data", keep="false"),
        "other_node1_data": observed_volume("other_node1_data", cluster="other")})
    kept = plan_teardown("ci", observed, FILES)
    assert [str(a) for a in kept if a.kind == Kind.REMOVE_VOLUME] == [
        "remove-volume ci_node2_data: teardown"]
    removed = plan_teardown("ci", observed, FILES, remove_volumes=True)
    assert [str(a) for a in removed if a.kind == Kind.REMOVE_VOLUME] == [
        "remove-volume ci_node1_data: teardown (volumes=remove)",
        "remove-volume ci_node2_data: teardown"]


def bootstrapped(load, when="created", command=None, name="boot.yml"):
    doc = base_doc()
    doc["bootstrap"] = {"container": "tester", "when": when, "command": command or [
        "init", "{% for r in replicas %}{{ r.address }}:{{ r.port }} {% endfor %}"]}
    return desired_for(load(doc, name))


def with_record(observed, desired):
    boot = desired.bootstrap
    return dataclasses.replace(observed, files={**observed.files,
                                                boot.record_path: sha256_bytes(boot.record)})


def test_the_bootstrap_runs_once_after_the_cluster_is_healthy(load):
    desired = bootstrapped(load)
    assert desired.bootstrap.command == (
        "init", "172.28.0.2:40404 172.28.0.3:40404 172.28.0.4:40404 172.28.0.5:40404 "
                "172.28.0.6:40404 ")
    lines = text(plan(desired, ObservedState())).splitlines()
    assert lines[-1] == "bootstrap ci_tester: the cluster was never bootstrapped"
    assert lines[-2].startswith("wait healthy")
    done = with_record(observed_from(desired), desired)
    assert plan(desired, done) == []


def test_the_bootstrap_runs_again_when_its_command_changes(load):
    first = bootstrapped(load)
    second = bootstrapped(load, command=["init", "--again"], name="again.yml")
    done = with_record(observed_from(second), first)
    assert text(plan(second, done)) == "bootstrap ci_tester: its command changed"


def test_when_recreated_the_bootstrap_follows_every_new_node(load):
    desired = bootstrapped(load, when="recreated")
    done = with_record(observed_from(desired), desired)
    assert plan(desired, done) == []
    without_node3 = dataclasses.replace(done, containers=tuple(
        c for c in done.containers if c.name != "ci_node3"))
    assert text(plan(desired, without_node3)).splitlines()[-1] == (
        "bootstrap ci_tester: nodes were (re)created")
    always = bootstrapped(load, when="always", name="always.yml")
    assert text(plan(always, with_record(observed_from(always), always))) == (
        "bootstrap ci_tester: it runs on every deploy")


def bootstrapped_with_data(load):
    doc = base_doc(count=2)
    doc["defaults"]["volumes"] = [{"name": "data", "path": "/var/lib/db"}]
    doc["bootstrap"] = {"container": "tester", "command": ["init"]}
    return desired_for(load(doc, "bootdata.yml"))


def test_new_data_volumes_are_bootstrapped_again_and_kept_ones_are_not(load):
    desired = bootstrapped_with_data(load)
    done = with_record(observed_from(desired), desired)
    volumes = {v.name: observed_volume(v.name) for v in desired.volumes}
    assert plan(desired, dataclasses.replace(done, volumes=volumes)) == []
    lines = text(plan(desired, done)).splitlines()  # the volumes are gone: the data is new
    assert lines[-1] == "bootstrap ci_tester: data volumes are new"


def test_teardown_keeps_the_bootstrap_record_while_it_keeps_the_volumes(load):
    desired = bootstrapped_with_data(load)
    volumes = {v.name: observed_volume(v.name) for v in desired.volumes}
    done = dataclasses.replace(with_record(observed_from(desired), desired), volumes=volumes)
    removes = [str(a) for a in plan_teardown("ci", done, FILES) if a.kind == Kind.REMOVE_FILES]
    assert removes == [f"remove-files {FILES}/{name}: teardown (the bootstrap record stays "
                       f"with the kept volumes)" for name in ("ci_node1", "ci_node2", "ci_tester")
                       if any(p.startswith(f"{FILES}/{name}/") for p in done.files)]
    assert removes  # the members' files go
    everything = plan_teardown("ci", done, FILES, remove_volumes=True)
    assert str(everything[-1]) == f"remove-files {FILES}: teardown"


def test_the_hosts_block_is_written_when_it_differs_and_removed_when_off(load):
    spec = load(base_doc(count=2), "two.yml")
    on = desired_state(spec, render_cluster(spec), STATE_DIR, build_ids=BASE_IDS,
                       host_names=True)
    assert on.hosts_block == ("# BEGIN clusterdeploy cluster ci\n172.28.0.2 node1\n"
                              "172.28.0.3 node2\n172.28.0.254 tester\n"
                              "# END clusterdeploy cluster ci\n")
    observed = observed_from(on)
    assert text(plan(on, observed)) == "write-hosts /etc/hosts: missing"
    current = dataclasses.replace(observed, hosts_block=on.hosts_block)
    assert plan(on, current) == []
    off = desired_for(spec)
    assert text(plan(off, current)) == "remove-hosts /etc/hosts: host_names is off"
    assert str(plan_teardown("ci", current, FILES)[-2]) == "remove-hosts /etc/hosts: teardown"


# --- faults ----------------------------------------------------------------------------------

JOURNAL = "/var/lib/clusterdeploy/.clusterdeploy-faults/ci"


def journaled(fault_id, kind, containers, helper="clusterdeploy-fault-helper:1",
              since="2026-11-28T08:00:00.000000001Z"):
    from clusterdeploy.core.observed import ObservedFault
    return ObservedFault(fault_id, kind, (), since, tuple(containers), helper, "{}")


def test_journaled_faults_are_healed_first_and_a_paused_node_is_unpaused_not_started(desired):
    observed = replace_container(observed_from(desired), "ci_node4", status="paused")
    observed = dataclasses.replace(observed, faults=(
        journaled("p1", "partition", ["ci_node1", "ci_node2"]),
        journaled("z1", "pause", ["ci_node4"], since="2026-11-28T08:00:05Z")),
        images={**observed.images, "clusterdeploy-fault-helper:1": "sha256:ff"})
    actions = plan(desired, observed)
    assert text(actions) == "\n".join([
        "heal-faults ci: 2 active faults (partition p1 since 2026-11-28T08:00:00Z, pause z1 "
        "since 2026-11-28T08:00:05Z), ci_node4 paused",
        "wait healthy: 1 unpaused",
    ])
    heal = actions[0]
    assert heal.sweep == ("ci_node1", "ci_node2", "ci_node4")
    assert heal.unpause == ("ci_node4",)
    assert heal.helper == "clusterdeploy-fault-helper:1"
    assert heal.directory == JOURNAL


def test_a_missing_helper_image_is_built_to_heal_with(desired):
    from clusterdeploy.faults.image import helper_image
    observed = dataclasses.replace(observed_from(desired), faults=(
        journaled("p1", "partition", ["ci_node1"]),))
    helper = helper_image({"debian:bookworm": "sha256:" + "d" * 64})
    actions = plan(dataclasses.replace(desired, fault_helper=helper), observed)
    assert text(actions).splitlines()[:2] == [
        "build clusterdeploy-fault-helper:<hash>: not on the host (fault-helper): to heal faults",
        "heal-faults ci: 1 active fault (partition p1 since 2026-11-28T08:00:00Z)"]
    assert actions[1].helper == helper.ref and actions[0].tag_latest is False


def test_an_unreadable_journal_entry_sweeps_every_running_container(desired):
    observed = replace_container(observed_from(desired), "ci_node5", status="exited")
    observed = dataclasses.replace(observed, faults=(journaled("?", "unreadable", []),))
    (heal,) = [a for a in plan(desired, observed) if a.kind == "heal-faults"]
    assert heal.sweep == ("ci_node1", "ci_node2", "ci_node3", "ci_node4", "ci_tester")


def test_no_journal_and_nothing_paused_plans_no_heal(desired):
    assert plan(desired, observed_from(desired)) == []


def test_teardown_removes_the_journal_after_collecting_its_nemesis_log(desired):
    observed = dataclasses.replace(observed_from(desired), faults_dir_exists=True)
    actions = plan_teardown("ci", observed, FILES, faults_dir=JOURNAL)
    assert actions[0].faults_dir == JOURNAL
    assert str(actions[-1]) == f"remove-files {JOURNAL}: teardown: the fault journal"
