"""`python -m clusterdeploy validate`: exit codes 0 / 1 / 2, problems on stderr, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys

from unitlib import REPO, base_doc, write_spec


def run(*args, cwd, env=None):
    environment = {k: v for k, v in os.environ.items() if k != "CLUSTER_SPEC"}
    environment.update(PYTHONPATH=str(REPO), **(env or {}))
    return subprocess.run([sys.executable, "-m", "clusterdeploy", *args], cwd=cwd,
                          env=environment, capture_output=True, text=True, timeout=60)


def test_validate_valid_spec_exits_0(tmp_path):
    path = write_spec(tmp_path, base_doc())
    result = run("validate", str(path), cwd=tmp_path)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == (f"{path}: valid: cluster ci, 5 nodes (node1, node2, node3, node4, "
                             "node5), network netDB 172.28.0.0/24\n")


def test_validate_invalid_spec_exits_1_with_one_problem_per_line(tmp_path):
    doc = base_doc()
    doc["nodes"][1]["ports"] = ["127.0.0.1:40401:40404"]
    doc["nodes"][2]["hostname"] = "node1"
    path = write_spec(tmp_path, doc)
    result = run("validate", str(path), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 2
    assert all(line.startswith(f"{path}: nodes[") for line in lines)
    assert "Traceback" not in result.stderr


def test_validate_missing_file_exits_1_with_one_line(tmp_path):
    result = run("validate", "nope.yml", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr == "nope.yml: no such file (create it or set CLUSTER_SPEC)\n"


def test_validate_shows_the_placement_over_several_hosts(tmp_path):
    hosts = [{"name": f"lab{i}", "ssh": {"address": f"10.250.0.{10 + i}"}} for i in (1, 2)]
    path = write_spec(tmp_path, base_doc(count=3, hosts=hosts))
    result = run("validate", str(path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1:] == [
        "  placement: lab1: node1, node3, tester; lab2: node2"]
    assert "(overlay over 2 hosts)" in result.stdout.splitlines()[0]


def test_validate_yaml_error_exits_1_without_traceback(tmp_path):
    write_spec(tmp_path, "name: ci\nnodes: [a\n")
    result = run("validate", "cluster.yml", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("cluster.yml: line 3, column 1: YAML syntax error")
    assert "Traceback" not in result.stderr


def test_validate_reads_cluster_spec_variable(tmp_path):
    write_spec(tmp_path, base_doc(name="viaenv"), "env.yml")
    result = run("validate", cwd=tmp_path, env={"CLUSTER_SPEC": "env.yml"})
    assert result.returncode == 0
    assert result.stdout.startswith("env.yml: valid: cluster viaenv, 5 nodes")


def test_validate_defaults_to_cluster_yml_in_the_working_directory(tmp_path):
    write_spec(tmp_path, base_doc(name="here"))
    result = run("validate", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.startswith("cluster.yml: valid: cluster here")


def test_unknown_subcommand_is_a_usage_error_exit_2(tmp_path):
    result = run("bogus", cwd=tmp_path)
    assert result.returncode == 2
    assert "invalid choice: 'bogus'" in result.stderr
    assert "Traceback" not in result.stderr


def test_no_subcommand_is_a_usage_error_exit_2(tmp_path):
    result = run(cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("usage: clusterdeploy")
