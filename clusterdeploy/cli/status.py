"""`clusterdeploy status [--json]` (or `ps`): a row per container, and its drift from the
spec."""

from __future__ import annotations

import argparse
from typing import Any

from ..clusterspec import load_spec
from ..lifecycle.status import observe_and_desire, render_json, render_table, status_rows
from .options import add_spec, add_state_dir


def add(sub: Any) -> None:
    parser = sub.add_parser("status", aliases=["ps"],
                            help="one row per container: state, health, drift")
    add_spec(parser)
    parser.add_argument("--json", action="store_true", help="JSON for scripts")
    add_state_dir(parser)
    parser.set_defaults(func=status)


def status(args: argparse.Namespace) -> int:
    spec = load_spec(args.spec)
    observed, desired, sizes = observe_and_desire(spec, args.state_dir)
    rows = status_rows(observed, desired, sizes)
    print(render_json(rows) if args.json else render_table(rows, observed))
    return 0
