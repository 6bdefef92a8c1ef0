"""`clusterdeploy exec NODE -- CMD...`: run a command in a node's container."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..clusterspec import load_spec
from .options import NODE_HELP, add_spec


def add(sub: Any) -> None:
    parser = sub.add_parser(
        "exec", help="run a command in a node's container",
        usage="clusterdeploy exec [--spec FILE] NODE [--] CMD...",
        description="Run CMD in the node's container with `docker exec`, interactive (a TTY) "
                    "when stdin and stdout are terminals; stdin is passed on. The exit code "
                    "is the command's. Everything after NODE is the command, but for exec's own "
                    "options ended by --.")
    add_spec(parser)
    parser.add_argument("node", metavar="NODE", help=NODE_HELP)
    parser.add_argument("command", nargs=argparse.REMAINDER, metavar="CMD",
                        help="the command and its arguments")
    parser.set_defaults(func=execute, parser=parser)


OWN_OPTIONS = ("--spec", "-h", "--help")


def command_of(args: argparse.Namespace) -> list[str]:
    """The command after NODE. Options of ours there (`exec node1 --spec x.yml -- cat f`) are
    read when a later `--` ends them; everything else after NODE is the command's, as with
    `docker exec` (`exec node1 -- --spec` runs `--spec`: argparse has taken that `--`)."""
    command = list(args.command)
    if command[:1] and command[0].split("=", 1)[0] in OWN_OPTIONS and "--" in command:
        split = command.index("--")
        again = args.parser.parse_args([*command[:split], args.node, "--",
                                        *command[split + 1:]])
        args.spec, command = again.spec, list(again.command)
    if command[:1] == ["--"]:  # argparse keeps the separator on some Python versions
        command = command[1:]
    if not command:
        args.parser.error("exec needs a command: clusterdeploy exec NODE -- CMD...")
    return command


def execute(args: argparse.Namespace) -> int:
    from ..lifecycle.execute import run_in

    command = command_of(args)
    tty = sys.stdin.isatty() and sys.stdout.isatty()
    return run_in(load_spec(args.spec), args.node, command, tty)
