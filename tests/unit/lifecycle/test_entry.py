"""How the CLI runs pyinfra: the working directory's entry scripts, else the package's."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from clusterdeploy.lifecycle.entry import data_args, entry_script, pyinfra_command, pyinfra_env
from clusterdeploy.packagedata import package_path


def test_the_directory_s_own_scripts_are_used_by_their_bare_names(tmp_path):
    for name in ("inventory.py", "deploy.py"):
        (tmp_path / name).write_text("")
    assert pyinfra_command("deploy.py", ["--data", "a=1"], tmp_path) == [
        str(Path(sys.executable).parent / "pyinfra"), "-y", "inventory.py", "deploy.py",
        "--data", "a=1"]


def test_the_package_s_scripts_stand_in_for_missing_ones(tmp_path):
    (tmp_path / "inventory.py").write_text("")
    command = pyinfra_command("teardown.py", directory=tmp_path)
    assert command[2:] == ["inventory.py", str(package_path("entry", "teardown.py"))]
    assert Path(command[3]).is_absolute() and Path(command[3]).is_file()


def test_an_empty_directory_runs_the_package_s_scripts(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert [Path(p).parent for p in pyinfra_command("deploy.py")[2:]] == \
        [package_path("entry")] * 2


def test_only_the_three_entry_scripts_are_looked_up(tmp_path):
    with pytest.raises(ValueError):
        entry_script("setup.py", tmp_path)


def test_the_spec_is_named_in_the_environment_only_when_given(monkeypatch):
    monkeypatch.setenv("CLUSTER_SPEC", "from-the-user.yml")
    assert pyinfra_env(None)["CLUSTER_SPEC"] == "from-the-user.yml"
    assert pyinfra_env(Path("/x/cluster.yml"))["CLUSTER_SPEC"] == "/x/cluster.yml"


def test_data_args():
    assert data_args({"state_dir": "/s", "force": "true"}) == [
        "--data", "state_dir=/s", "--data", "force=true"]
    assert data_args(["a=1"]) == ["--data", "a=1"]
