"""`clusterdeploy logs`: collect every container's logs now, stop nothing."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..clusterspec import load_spec
from ..core.desired import faults_dir
from ..docker.engine import Engine
from ..docker.logs import collect_logs
from .options import add_spec, add_state_dir


def add(sub: Any) -> None:
    parser = sub.add_parser("logs", help="collect every container's logs without stopping")
    add_spec(parser)
    add_state_dir(parser)
    parser.set_defaults(func=logs)


def logs(args: argparse.Namespace) -> int:
    spec = load_spec(args.spec)
    host = spec.hosts[0]
    with Engine(host) as engine:
        run_dir = collect_logs(engine, spec.name, spec.logs_dir,
                               faults_dir=faults_dir(spec.name, args.state_dir))
    if run_dir is None:
        print(f"cluster {spec.name} has no containers on {host.name}", file=sys.stderr)
        return 1
    print(run_dir)
    return 0
