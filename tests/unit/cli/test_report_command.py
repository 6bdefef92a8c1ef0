"""`clusterdeploy report [RUN_DIR]`: the path of the written report on stdout; one line for a
folder that is no run folder."""

from __future__ import annotations

import os
import subprocess
import sys

from unitlib import REPO, base_doc, write_spec

from tests.synthetic_run import make_run_folder


def run(*args, cwd):
    environment = {k: v for k, v in os.environ.items() if k != "CLUSTER_SPEC"}
    environment.update(PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "clusterdeploy", *args], cwd=cwd,
                          env=environment, capture_output=True, text=True, timeout=60)


def test_report_of_a_run_folder(tmp_path):
    run_dir = make_run_folder(tmp_path / "run", nodes=2, lines=10)
    result = run("report", str(run_dir), cwd=tmp_path)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == f"{run_dir / 'report.html'}\n"
    assert (run_dir / "report.html").read_text().startswith("<!DOCTYPE html>")


def test_report_defaults_to_the_latest_run_of_the_spec(tmp_path):
    write_spec(tmp_path, base_doc())
    logs = tmp_path / "docker-test" / "logs"
    make_run_folder(logs / "20261128T080000Z", nodes=1, lines=3, crashed=0)
    (logs / "latest").symlink_to("20261128T080000Z")
    result = run("report", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{logs.resolve() / '20261128T080000Z' / 'report.html'}\n"


def test_a_folder_that_is_no_run_folder_is_one_line(tmp_path):
    result = run("report", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr == (f"{tmp_path}: not a run folder: no summary.json or cluster.log "
                             "(give a folder of the logs directory, e.g. "
                             "docker-test/logs/latest)\n")
