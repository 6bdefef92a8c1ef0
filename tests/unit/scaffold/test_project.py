"""`clusterdeploy init`: what it writes, that it validates at once, and what it never does
(overwrite a file, touch a project that has a cluster.yml)."""

from __future__ import annotations

import os
import stat
from dataclasses import replace

import pytest
import yaml

from clusterdeploy.clusterspec import load_spec
from clusterdeploy.core.render import render_cluster
from clusterdeploy.errors import ClusterDeployError, SpecError
from clusterdeploy.packagedata import package_path
from clusterdeploy.scaffold import Options, UsageError, init_project
from clusterdeploy.scaffold.project import STARTER_CMD
from clusterdeploy.scaffold.spec import cluster_name, flow

OPTIONS = Options(name="cdinit", nodes=3, port=8080, publish=41700)
EVERY_FILE = [
    "cluster.yml", "Dockerfile", "inventory.py", "deploy.py", "teardown.py",
    "group_data/all.py", "run_tests.sh", "docker-test/templates/Cluster.config.j2",
    "docker-test/templates/setup.sh.j2", "docker-test/templates/start.sh.j2",
    "docker-test/templates/check.sh.j2", "docker-test/cluster.schema.json",
    "docker-test/.gitignore", ".dockerignore",
]


def test_an_empty_directory_gets_every_file_and_a_valid_spec(tmp_path):
    outcome = init_project(tmp_path / "new", OPTIONS)
    assert [f.path for f in outcome.written] == EVERY_FILE
    assert outcome.skipped == [] and outcome.problems is None
    assert outcome.spec is not None and outcome.spec.name == "cdinit"
    assert [n.container_name for n in outcome.spec.members] == [
        "cdinit_node1", "cdinit_node2", "cdinit_node3", "cdinit_tester"]
    assert [str(n.ports[0]) for n in outcome.spec.nodes] == [
        "127.0.0.1:41701:8080/tcp", "127.0.0.1:41702:8080/tcp", "127.0.0.1:41703:8080/tcp"]
    assert os.access(tmp_path / "new" / "run_tests.sh", os.X_OK)
    assert stat.S_IMODE((tmp_path / "new" / "cluster.yml").stat().st_mode) == 0o644


def test_the_spec_carries_the_editor_schema_line_and_runs_the_starter(tmp_path):
    init_project(tmp_path, OPTIONS)
    text = (tmp_path / "cluster.yml").read_text()
    assert text.splitlines()[0] == \
        "# yaml-language-server: $schema=docker-test/cluster.schema.json"
    assert (tmp_path / "docker-test/cluster.schema.json").read_bytes() == \
        package_path("cluster.schema.json").read_bytes()
    doc = yaml.safe_load(text)
    assert doc["defaults"]["command"] == [
        "/clusterdeploy/start.sh", "busybox", "httpd", "-f", "-p", "8080", "-h", "/srv/www"]
    assert 'CMD ["busybox", "httpd", "-f", "-p", "8080", "-h", "/srv/www"]' in \
        (tmp_path / "Dockerfile").read_text()
    assert doc["images"]["service"] == {"tag": "cdinit", "dockerfile": "Dockerfile",
                                        "context": "."}
    assert doc["tester"]["container_command"] == ["sleep", "infinity"]


def test_the_suite_queries_every_node_and_start_sh_execs_the_service(tmp_path):
    spec = init_project(tmp_path, replace(OPTIONS, nodes=4)).spec
    files = {f.path: f.content.decode() for f in render_cluster(spec)["cdinit_tester"]}
    suite = files["check.sh"]
    assert [line for line in suite.splitlines() if line.startswith("if get ")] == [
        f"if get http://node{i}:8080/; then" for i in range(1, 5)]
    node = {f.path: f.content.decode() for f in render_cluster(spec)["cdinit_node2"]}
    assert "export SELF_IP=172.28." in node["start.sh"] and node["start.sh"].endswith(
        'exec "$@"\n')
    assert node["Cluster.config"].splitlines()[-1].startswith("node4 ")


def test_the_starter_s_cmd_line_is_the_one_command_replaces():
    assert STARTER_CMD in package_path("scaffold", "files", "Dockerfile").read_text()


def test_command_replaces_the_starter_s_cmd(tmp_path):
    init_project(tmp_path, replace(OPTIONS, command="my-server --port 8080"))
    assert 'CMD ["my-server", "--port", "8080"]' in (tmp_path / "Dockerfile").read_text()
    assert yaml.safe_load((tmp_path / "cluster.yml").read_text())["defaults"]["command"] == [
        "/clusterdeploy/start.sh", "my-server", "--port", "8080"]


def test_an_existing_dockerfile_s_cmd_is_the_command_and_the_file_is_kept(tmp_path):
    dockerfile = 'FROM debian:bookworm\nCMD ["webfsd", "-F", "-p", "9090"]\n'
    (tmp_path / "Dockerfile").write_text(dockerfile)
    (tmp_path / "run_tests.sh").write_text("mine\n")
    outcome = init_project(tmp_path, replace(OPTIONS, port=9090))
    assert outcome.skipped == ["run_tests.sh"]
    assert "Dockerfile" not in [f.path for f in outcome.written]
    assert (tmp_path / "Dockerfile").read_text() == dockerfile
    assert (tmp_path / "run_tests.sh").read_text() == "mine\n"
    assert outcome.notes == ["the nodes' command is Dockerfile's CMD: webfsd -F -p 9090"]
    assert outcome.spec.defaults["command"] == ("/clusterdeploy/start.sh", "webfsd", "-F", "-p",
                                                "9090")


def test_an_entrypoint_is_pointed_out(tmp_path):
    (tmp_path / "Dockerfile").write_text('FROM debian\nENTRYPOINT ["/e"]\nCMD ["srv"]\n')
    notes = init_project(tmp_path, OPTIONS).notes
    assert notes[0].startswith("Dockerfile sets an ENTRYPOINT: Docker passes each node's command")


def test_a_dockerfile_without_cmd_needs_command(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM debian\n")
    with pytest.raises(UsageError, match="Dockerfile has no CMD"):
        init_project(tmp_path, OPTIONS)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Dockerfile"]


def test_a_named_dockerfile_must_exist(tmp_path):
    with pytest.raises(UsageError, match="build/Dockerfile: no such file"):
        init_project(tmp_path, replace(OPTIONS, dockerfile="build/Dockerfile"))
    assert list(tmp_path.iterdir()) == []


def test_an_existing_image_builds_nothing_and_needs_a_command(tmp_path):
    with pytest.raises(UsageError, match="--image needs --command"):
        init_project(tmp_path, replace(OPTIONS, image="nginx:latest"))
    outcome = init_project(tmp_path, replace(OPTIONS, image="nginx:latest",
                                                command="nginx -g 'daemon off;'"))
    written = [f.path for f in outcome.written]
    assert "Dockerfile" not in written and ".dockerignore" not in written
    assert outcome.spec.images == {}
    assert outcome.spec.defaults.image == "nginx:latest"
    assert outcome.spec.defaults["command"] == ("/clusterdeploy/start.sh", "nginx", "-g",
                                                "daemon off;")


def test_a_directory_with_a_cluster_yml_is_left_alone(tmp_path):
    (tmp_path / "cluster.yml").write_text("name: mine\n")
    with pytest.raises(ClusterDeployError) as caught:
        init_project(tmp_path, OPTIONS)
    assert str(caught.value) == (f"{tmp_path}/cluster.yml: already exists; nothing written "
                                 "(init never overwrites a file: edit it, or init another "
                                 "directory)")
    assert [p.name for p in tmp_path.iterdir()] == ["cluster.yml"]


def test_options_that_make_an_invalid_spec_write_nothing(tmp_path):
    bad = replace(OPTIONS, name="Bad Name", port=70000)
    with pytest.raises(SpecError) as caught:
        init_project(tmp_path, bad)
    paths = [p.path for p in caught.value.problems]
    assert paths[0] == "defaults.service_ports.http" and "name" in paths
    assert str(caught.value).startswith("cluster.yml (from the options): defaults.service_ports")
    assert list(tmp_path.iterdir()) == []


def test_a_broken_file_that_was_already_there_is_reported_after_writing(tmp_path):
    (tmp_path / "docker-test/templates").mkdir(parents=True)
    (tmp_path / "docker-test/templates/check.sh.j2").write_text("{{ nope }}\n")
    outcome = init_project(tmp_path, OPTIONS)
    assert outcome.spec is None
    assert "docker-test/templates/check.sh.j2" in outcome.skipped
    assert "'nope' is undefined" in str(outcome.problems)
    assert load_spec(tmp_path / "cluster.yml").name == "cdinit"  # the spec itself is valid


def test_a_file_is_not_a_project_directory(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(UsageError, match="is not a directory"):
        init_project(tmp_path / "file", OPTIONS)


def test_a_file_that_cannot_be_written_is_one_line(tmp_path):
    (tmp_path / "group_data").write_text("a file where a folder goes")
    with pytest.raises(ClusterDeployError, match=r"group_data/all.py: cannot write: "):
        init_project(tmp_path, OPTIONS)


@pytest.mark.parametrize(("directory", "name"), [
    ("myservice", "myservice"), ("My Service", "my-service"), ("_x_", "x"), ("...", "cluster"),
    ("a" * 40, "a" * 31),
])
def test_cluster_name_from_the_directory(directory, name):
    assert cluster_name(directory) == name


@pytest.mark.parametrize("value", ["8080", "yes", "a: b", "# x", "x'y", "ünï", "", "null"])
def test_flow_values_read_back_as_written(value):
    assert yaml.safe_load(f"key: {flow(value)}")["key"] == value
    assert yaml.safe_load(f"key: {flow([value, 'x'])}")["key"] == [value, "x"]
