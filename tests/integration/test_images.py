"""Issue 3: the example Go service and content-addressed image builds, on the real engine."""

from __future__ import annotations

import json
import uuid

import pytest

from .conftest import (
    Project,
    containers_state,
    docker,
    http_get,
    make_project,
    plan_lines,
    remove_cluster,
    wait_for,
)

pytestmark = pytest.mark.docker

NAME = "cdimg"
PORT_BASE = 41600


@pytest.fixture(scope="module")
def project(engine: None, tmp_path_factory: pytest.TempPathFactory) -> Project:
    project = make_project(tmp_path_factory.mktemp("images"), NAME, PORT_BASE, 202)
    project.edit_spec(lambda s: s.update(nodes=s["nodes"][:2]))
    yield project
    remove_cluster(NAME)


def builds(result) -> list[str]:
    return [line for line in plan_lines(result) if line.startswith("build ")]


def test_second_deploy_builds_nothing(project: Project) -> None:
    project.deploy()
    assert builds(project.deploy()) == []


def test_node_image_is_labelled_and_tagged_by_its_hash(project: Project) -> None:
    data = json.loads(docker("image", "inspect", "my-db:latest").stdout)[0]
    content_hash = data["Config"]["Labels"]["io.clusterdeploy.image-hash"]
    assert f"my-db:{content_hash[:16]}" in data["RepoTags"]


def test_environment_change_rebuilds_nothing(project: Project) -> None:
    project.edit_spec(lambda s: s["nodes"][0].setdefault("environment", {}).update(X="1"))
    result = project.deploy()
    assert builds(result) == []
    assert any(line.startswith(f"recreate {NAME}_node1") for line in plan_lines(result))


def test_go_edit_rebuilds_exactly_the_node_image_once(project: Project) -> None:
    main = project.root / "cmd" / "main.go"
    main.write_text(main.read_text() + f"\n// edited by a test {uuid.uuid4()}\n")
    result = project.deploy()
    assert len(builds(result)) == 1, plan_lines(result)
    assert builds(result)[0].startswith("build my-db:")
    assert builds(result)[0].endswith("content changed (node)")
    # the new image is what the nodes now run
    assert all(line.startswith(("recreate", "wait", "collect-logs"))
               for line in plan_lines(result) if not line.startswith("build"))
    assert builds(project.deploy()) == []


def test_failed_build_names_the_step_and_leaves_the_cluster_running(project: Project) -> None:
    before = containers_state(NAME)
    main = project.root / "cmd" / "main.go"
    good = main.read_text()
    main.write_text(good + "\nthis is not Go\n")
    try:
        result = project.deploy(check=False)
    finally:
        main.write_text(good)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "build of images.node (my-db:" in output
    assert "failed at Step" in output and "go build" in output
    assert "last lines of the build output" in output
    after = containers_state(NAME)
    assert {n: s["id"] for n, s in after.items()} == {n: s["id"] for n, s in before.items()}
    assert all(s["status"] == "running" for s in after.values())


def test_node_image_runs_standalone_and_answers_ping(engine: None) -> None:
    name = "cdimg_standalone"
    docker("rm", "-f", name, check=False)
    docker("run", "-d", "--name", name, "--init", "-p", "127.0.0.1:41699:40404", "my-db:latest")
    try:
        def answers() -> bool:
            try:
                return http_get("http://127.0.0.1:41699/ping")[0] == 200
            except OSError:
                return False
        wait_for(answers, timeout=20)
    finally:
        docker("rm", "-f", name)


def test_go_unit_tests_pass_in_the_builder_image(engine: None) -> None:
    from .conftest import REPO
    result = docker("run", "--rm", "-v", f"{REPO / 'cmd'}:/src:ro", "-w", "/src",
                    "-e", "GOCACHE=/tmp/gocache", "-e", "GOFLAGS=-buildvcs=false",
                    "go-builder:latest", "go", "test", "./...", check=False, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok" in result.stdout


def test_a_race_build_runs_with_the_race_detector(project: Project) -> None:
    """Sanitizers reach the build: the node image is built with `-race` (CGO, gcc) and the
    cluster runs on it; the binary carries the race runtime (ThreadSanitizer)."""
    project.edit_spec(lambda s: s["build"].update(sanitizers=["race"]))
    try:
        result = project.deploy()
        assert builds(result) and builds(result)[0].startswith("build my-db:")
        state = containers_state(NAME)
        assert all(s["health"] == "healthy" for n, s in state.items() if "node" in n)
        tsan = docker("exec", f"{NAME}_node1", "grep", "-c", "__tsan_",
                      "/root/service/server", check=False)
        assert tsan.returncode == 0 and int(tsan.stdout) > 0, tsan.stderr
    finally:
        project.edit_spec(lambda s: s["build"].update(sanitizers=[]))
    project.deploy()
    plain = docker("exec", f"{NAME}_node1", "grep", "-c", "__tsan_", "/root/service/server",
                   check=False)
    assert plain.stdout.strip() == "0"
