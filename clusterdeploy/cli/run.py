"""`clusterdeploy run`: deploy, run the tester's suite, shut down on Ctrl+C (or at once)."""

from __future__ import annotations

import argparse
import os
from typing import Any

from ..clusterspec import load_spec
from .options import add_lock_timeout, add_spec, add_state_dir


def add(sub: Any) -> None:
    parser = sub.add_parser("run", help="deploy, run the tester's suite, shut down on Ctrl+C")
    add_spec(parser)
    parser.add_argument("--once", action="store_true",
                        help="shut down after the suite (the default when CI is set)")
    add_state_dir(parser)
    parser.add_argument("--data", action="append", metavar="KEY=VALUE",
                        help="pyinfra data for the deploy (repeatable)")
    add_lock_timeout(parser, "another deploy or run")
    parser.add_argument("--seed", type=int,
                        help="the seed of the spec's fault schedule (default: faults.seed, "
                             "else a random one)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..lifecycle.runner import run as run_cluster

    spec = load_spec(args.spec)
    once = args.once or os.environ.get("CI", "").lower() in ("1", "true", "yes")
    data = [f"state_dir={args.state_dir}", *(args.data or [])]
    return run_cluster(spec, once=once, state_dir=args.state_dir,
                       pyinfra_args=[arg for item in data for arg in ("--data", item)],
                       lock_timeout=args.lock_timeout, seed=args.seed)
