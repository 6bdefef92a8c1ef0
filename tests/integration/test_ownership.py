"""Issue 13: nothing clusterdeploy runs writes or removes outside what it made, on the real
engine: a state directory holding someone else's data survives a deploy and a teardown."""

from __future__ import annotations

import pytest

from .conftest import Project, docker, make_project, remove_cluster

pytestmark = pytest.mark.docker

NAME = "cdown"


@pytest.fixture
def project(engine: None, tmp_path) -> Project:
    project = make_project(tmp_path, NAME, 41750, 212)
    project.edit_spec(lambda s: s.update(nodes=s["nodes"][:1]))
    yield project
    remove_cluster(NAME)


def tree(root) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def test_a_state_dir_holding_foreign_data_survives_deploy_and_teardown(project: Project) -> None:
    foreign = project.state_dir / NAME  # named like the cluster, made by someone else
    (foreign / "photos").mkdir(parents=True)
    (foreign / "photos" / "cat.jpg").write_bytes(b"\xff\xd8 not ours")
    (foreign / "notes.txt").write_text("keep me\n")
    before = tree(project.state_dir)
    result = project.deploy(check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert (f"local: {foreign} exists and was not made by clusterdeploy for cluster {NAME}; "
            "clusterdeploy writes nothing there") in output
    assert "Traceback" not in output
    assert tree(project.state_dir) == before
    assert docker("ps", "-aq", "--filter", f"label=io.clusterdeploy.cluster={NAME}").stdout == ""
    project.teardown()
    assert tree(project.state_dir) == before


def test_a_relative_state_dir_is_refused(project: Project) -> None:
    result = project.deploy(check=False, state_dir="relative/dir")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "state_dir 'relative/dir' is not an absolute path" in output
    assert "Traceback" not in output


def test_a_latest_that_is_not_our_link_is_left_alone(project: Project) -> None:
    logs = project.root / "docker-test" / "logs"
    (logs / "latest").mkdir(parents=True)
    (logs / "latest" / "mine.txt").write_text("a directory of the user's\n")
    project.deploy()
    project.teardown()
    assert (logs / "latest").is_dir() and not (logs / "latest").is_symlink()
    assert (logs / "latest" / "mine.txt").read_text() == "a directory of the user's\n"
    assert [p for p in logs.iterdir() if p.name != "latest"], "the logs were still collected"
