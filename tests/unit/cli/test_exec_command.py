"""`exec NODE -- CMD...`: what is the command, and the errors as the user sees them."""

from __future__ import annotations

import pytest

from clusterdeploy.cli import parser
from clusterdeploy.cli.execute import command_of
from clusterdeploy.lifecycle.execute import exec_argv


@pytest.mark.parametrize(("argv", "command", "spec"), [
    (["exec", "node1", "--", "cat", "/root/Cluster.config"], ["cat", "/root/Cluster.config"],
     None),
    (["exec", "node1", "ls", "-la", "/"], ["ls", "-la", "/"], None),
    (["exec", "--spec", "x.yml", "node1", "--", "sh", "-c", "echo -- --spec"],
     ["sh", "-c", "echo -- --spec"], "x.yml"),
    # after NODE, everything is the command's (as with docker exec) ...
    (["exec", "node1", "--", "--spec"], ["--spec"], None),
    (["exec", "node1", "--spec", "x.yml", "cat"], ["--spec", "x.yml", "cat"], None),
    (["exec", "node1", "sh", "-c", "x", "--", "--spec"], ["sh", "-c", "x", "--", "--spec"], None),
    # ... but for exec's own options ended by --
    (["exec", "node1", "--spec", "x.yml", "--", "cat", "f"], ["cat", "f"], "x.yml"),
    (["exec", "node1", "--spec=y.yml", "--", "ls"], ["ls"], "y.yml"),
])
def test_exec_takes_everything_after_node_as_the_command(argv, command, spec):
    args = parser().parse_args(argv)
    assert (args.node, command_of(args), args.spec) == ("node1", command, spec)


def test_exec_without_a_command_is_a_usage_error(cli):
    result = cli("exec", "node1")
    assert result.returncode == 2
    assert result.stderr.endswith(
        "error: exec needs a command: clusterdeploy exec NODE -- CMD...\n")


def test_an_unknown_node_is_one_line_listing_the_known_ones(cli, unknown_node9):
    result = cli("exec", "node9", "--", "true")
    assert (result.returncode, result.stdout, result.stderr) == (1, "", unknown_node9)


def test_the_docker_command_has_a_tty_only_when_asked():
    assert exec_argv("abc", ["cat", "f"], tty=False) == ["docker", "exec", "-i", "abc", "cat", "f"]
    assert exec_argv("abc", ["sh"], tty=True) == ["docker", "exec", "-i", "-t", "abc", "sh"]
