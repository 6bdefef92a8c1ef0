"""`stop`, `start`, `restart NODE...`: their command lines and errors, as the user sees them.
What they do is in tests/unit/lifecycle/test_nodes.py and, for real, tests/integration/
test_commands.py."""

from __future__ import annotations

import pytest

from clusterdeploy.cli import parser


@pytest.mark.parametrize("kind", ["stop", "start", "restart"])
def test_node_commands_need_a_node(cli, kind):
    result = cli(kind)
    assert result.returncode == 2
    assert "error: the following arguments are required: NODE" in result.stderr


def test_node_commands_parse_nodes_force_and_lock_timeout():
    args = parser().parse_args(["restart", "node1", "node3", "--force", "--lock-timeout", "5m"])
    assert (args.nodes, args.force, args.lock_timeout) == (["node1", "node3"], True, 300.0)
    args = parser().parse_args(["stop", "node2", "--state-dir", "/srv/cd"])
    assert (args.force, args.lock_timeout, args.state_dir) == (False, 300.0, "/srv/cd")


def test_start_has_no_force(cli):
    result = cli("start", "node1", "--force")
    assert result.returncode == 2
    assert "unrecognized arguments: --force" in result.stderr


@pytest.mark.parametrize("argv", [["stop", "node9"], ["start", "node1", "node9"],
                                  ["restart", "node9", "--force"]])
def test_an_unknown_node_is_one_line_listing_the_known_ones(cli, argv, unknown_node9):
    result = cli(*argv)
    assert (result.returncode, result.stdout, result.stderr) == (1, "", unknown_node9)
