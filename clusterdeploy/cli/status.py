"""`clusterdeploy status [--json]` (or `ps`): a row per container, and its drift from the
spec."""

from __future__ import annotations

import argparse
from typing import Any

from ..clusterspec import load_spec
from .options import add_spec, add_state_dir


def add(sub: Any) -> None:
    parser = sub.add_parser("status", aliases=["ps"],
                            help="one row per container: state, health, drift")
    add_spec(parser)
    parser.add_argument("--json", action="store_true", help="JSON for scripts")
    add_state_dir(parser)
    parser.set_defaults(func=status)


def status(args: argparse.Namespace) -> int:
    from ..lifecycle.status import cluster_rows, cluster_status, render_json, render_table

    spec = load_spec(args.spec)
    parts = cluster_status(spec, args.state_dir)
    rows = cluster_rows(spec, parts)
    faults = parts[0].observed if not spec.spans_hosts else None  # faults: one host only
    print(render_json(rows) if args.json else render_table(rows, faults))
    return 0
