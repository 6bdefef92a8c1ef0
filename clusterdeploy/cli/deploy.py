"""`clusterdeploy deploy [--dry]`: `pyinfra -y inventory.py deploy.py`, from any directory."""

from __future__ import annotations

import argparse
import subprocess
from typing import Any

from ..lifecycle.entry import data_args, pyinfra_command, pyinfra_env
from .options import add_spec


def add(sub: Any) -> None:
    parser = sub.add_parser(
        "deploy", help="converge the cluster (pyinfra -y inventory.py deploy.py)",
        description="Run `pyinfra -y inventory.py deploy.py` here: this directory's own "
                    "inventory.py and deploy.py, or the package's when it has none.")
    add_spec(parser)
    parser.add_argument("--dry", action="store_true", help="print the plan, change nothing")
    add_pyinfra_data(parser)
    parser.set_defaults(func=deploy)


def add_pyinfra_data(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--state-dir", help="host directory of rendered files (default: "
                                            "group_data's state_dir, else /var/lib/clusterdeploy)")
    parser.add_argument("--data", action="append", default=[], metavar="KEY=VALUE",
                        help="pyinfra data (repeatable)")


def pyinfra_data(args: argparse.Namespace, **extra: str) -> list[str]:
    data = [f"state_dir={args.state_dir}"] if args.state_dir else []
    return data_args([*data, *(f"{k}={v}" for k, v in extra.items()), *args.data])


def deploy(args: argparse.Namespace) -> int:
    extra = ["--dry"] if args.dry else []
    return subprocess.call(pyinfra_command("deploy.py", [*pyinfra_data(args), *extra]),
                           env=pyinfra_env(args.spec))
