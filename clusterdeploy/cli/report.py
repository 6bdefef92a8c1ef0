"""`clusterdeploy report [RUN_DIR]`: (re)write a run folder's report.html; print its path."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..clusterspec import load_spec
from ..errors import ClusterDeployError
from .options import add_spec


def add(sub: Any) -> None:
    parser = sub.add_parser(
        "report", help="write a run folder's report.html (default: the latest run)",
        description="Write RUN_DIR/report.html from the run folder's files (summary.json, "
                    "cluster.json, events.json, the logs, suite.log) and print its path.")
    parser.add_argument("run_dir", nargs="?", metavar="RUN_DIR",
                        help="a run folder (default: <logs dir of the spec>/latest)")
    add_spec(parser)
    parser.set_defaults(func=report)


def report(args: argparse.Namespace) -> int:
    from ..report import write_report

    if args.run_dir is not None:
        run_dir = Path(args.run_dir)
    else:
        run_dir = load_spec(args.spec).logs_dir / "latest"
    if not (run_dir / "summary.json").is_file() and not (run_dir / "cluster.log").is_file():
        raise ClusterDeployError(f"{run_dir}: not a run folder: no summary.json or cluster.log "
                                 "(give a folder of the logs directory, e.g. "
                                 "docker-test/logs/latest)")
    print(write_report(run_dir.resolve()))
    return 0
