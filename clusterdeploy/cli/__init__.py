"""`python -m clusterdeploy COMMAND`: one module per command, each with `add(subparsers)`.

Exit codes: 0 success, 1 a problem a person can act on (printed one per line), 2 usage error,
130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from ..errors import ClusterDeployError
from ..packagedata import version
from . import deploy, fault, init, lock, logs, run, schema_doc, status, teardown, validate

COMMANDS = (init, validate, deploy, run, status, fault, logs, teardown, lock, schema_doc)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="clusterdeploy",
        description="Declarative test clusters of Docker containers, on pyinfra.")
    top.add_argument("--version", action="version", version=f"clusterdeploy {version()}")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add(sub)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except ClusterDeployError as exc:
        print(str(exc), file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
