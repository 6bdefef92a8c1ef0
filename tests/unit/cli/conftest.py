"""The CLI run in this process, as the user sees it (exit code, stdout, stderr), from a
directory holding a three-node spec (`cluster.yml`, cluster `ci`). No Docker."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from unitlib import base_doc, write_spec

from clusterdeploy.cli import main


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def spec_dir(tmp_path, monkeypatch):
    write_spec(tmp_path, base_doc(count=3))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CLUSTER_SPEC", raising=False)
    return tmp_path


@pytest.fixture
def cli(spec_dir, capsys):
    def cli(*argv):
        try:
            code = main(list(argv))
        except SystemExit as exit:  # argparse's usage errors
            code = exit.code
        out, err = capsys.readouterr()
        return Result(code, out, err)
    return cli


@pytest.fixture
def unknown_node9():
    """What the user reads for a node the spec does not have."""
    return ("cluster.yml: cluster ci has no node node9 (its nodes: node1, node2, node3, "
            "tester; container names work too)\n")
