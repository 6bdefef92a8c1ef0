"""`logs [-f] [--tail N] [--raw] [NODE...]`: options and errors as the user sees them; colours
only on a terminal. The printer is tested in tests/unit/lifecycle/test_logview.py."""

from __future__ import annotations

import io

import pytest

from clusterdeploy.cli import parser
from clusterdeploy.cli.logs import colour_wanted


def test_logs_options():
    args = parser().parse_args(["logs", "-f", "--tail", "0", "--raw", "node1", "ci_node2"])
    assert (args.follow, args.tail, args.raw, args.nodes) == (True, 0, True, ["node1", "ci_node2"])
    args = parser().parse_args(["logs", "--follow"])
    assert (args.follow, args.tail, args.raw, args.nodes) == (True, None, False, [])


@pytest.mark.parametrize("argv", [["logs", "node9"], ["logs", "-f", "node1", "node9"]])
def test_an_unknown_node_is_one_line_listing_the_known_ones(cli, argv, unknown_node9):
    result = cli(*argv)
    assert (result.returncode, result.stdout, result.stderr) == (1, "", unknown_node9)


def test_tail_and_raw_need_a_node_or_follow(cli):
    for argv in (["logs", "--tail", "5"], ["logs", "--raw"]):
        result = cli(*argv)
        assert result.returncode == 2
        assert result.stderr.endswith(
            "error: --tail and --raw print nodes' logs: name a NODE or add -f (without them, "
            "logs collects every container's logs)\n")


def test_tail_is_a_number_of_lines(cli):
    result = cli("logs", "--tail", "many", "node1")
    assert result.returncode == 2
    assert "argument --tail: 'many' is not a number of lines (0, 1, 2, ...)" in result.stderr


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_colours_only_on_a_terminal_without_no_color(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert colour_wanted(Terminal()) and not colour_wanted(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not colour_wanted(Terminal())
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("TERM", "dumb")
    assert not colour_wanted(Terminal())
