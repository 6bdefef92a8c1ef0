"""`clusterdeploy teardown [--force]`: `pyinfra -y inventory.py teardown.py`, from any
directory."""

from __future__ import annotations

import argparse
import subprocess
from typing import Any

from ..lifecycle.entry import pyinfra_command, pyinfra_env
from .deploy import add_pyinfra_data, pyinfra_data
from .options import add_spec


def add(sub: Any) -> None:
    parser = sub.add_parser(
        "teardown", help="collect the logs, stop and remove the cluster",
        description="Run `pyinfra -y inventory.py teardown.py` here: this directory's own "
                    "inventory.py and teardown.py, or the package's when it has none.")
    add_spec(parser)
    parser.add_argument("--force", action="store_true",
                        help="kill at once instead of the graceful stop")
    add_pyinfra_data(parser)
    parser.set_defaults(func=teardown)


def teardown(args: argparse.Namespace) -> int:
    extra = {"force": "true"} if args.force else {}
    return subprocess.call(pyinfra_command("teardown.py", pyinfra_data(args, **extra)),
                           env=pyinfra_env(args.spec))
