"""`python -m clusterdeploy COMMAND`: one module per command, each with `add(subparsers)`.

Exit codes: 0 success, 1 a problem a person can act on (printed one per line), 2 usage error,
130 interrupted, 141 (128 + SIGPIPE, as a Unix tool killed by SIGPIPE) when the reader of the
output went away (`clusterdeploy status --json | head -1`): quietly, no traceback.
`exec` exits with its command's code.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable, Sequence

from ..errors import ClusterDeployError
from ..packagedata import version
from . import (
    deploy,
    execute,
    fault,
    hosts,
    init,
    lock,
    logs,
    report,
    restart,
    run,
    schema_doc,
    start,
    status,
    stop,
    teardown,
    validate,
)

COMMANDS = (init, validate, deploy, run, status, fault, logs, stop, start, restart, execute,
            report, teardown, lock, hosts, schema_doc)
CLOSED_PIPE = 141


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
    try:
        args = parser().parse_args(argv)
        func: Callable[[argparse.Namespace], int] = args.func
        try:
            code = func(args)
        except ClusterDeployError as exc:
            print(str(exc), file=sys.stderr)
            code = exc.exit_code
        sys.stdout.flush()  # here, where a closed pipe is caught, not at interpreter exit
        return code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return closed_pipe()


def closed_pipe() -> int:
    """The reader went away: nothing more can be said. Point stdout at /dev/null so that the
    interpreter's final flush does not fail a second time."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    with contextlib.suppress(OSError, ValueError):
        os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return CLOSED_PIPE
