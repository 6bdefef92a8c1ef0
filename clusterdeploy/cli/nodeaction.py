"""What `stop`, `start` and `restart` share: NODE..., the lock, one line per node."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..clusterspec import load_spec
from .options import NODE_HELP, add_lock_timeout, add_spec, add_state_dir


def add_command(sub: Any, kind: str, help_text: str, description: str) -> None:
    parser = sub.add_parser(kind, help=help_text, description=description)
    parser.add_argument("nodes", nargs="+", metavar="NODE", help=NODE_HELP)
    if kind != "start":
        parser.add_argument("--force", action="store_true",
                            help="kill at once instead of the graceful stop")
    add_spec(parser)
    add_state_dir(parser)
    add_lock_timeout(parser, "a deploy or another command")
    parser.set_defaults(func=lambda args: run(args, kind, getattr(args, "force", False)))


def run(args: argparse.Namespace, kind: str, force: bool) -> int:
    from ..lifecycle.nodes import Action, act

    spec = load_spec(args.spec)
    results = act(spec, args.nodes, Action(kind, force), args.state_dir, args.lock_timeout)
    for done, line in results:
        print(line, file=sys.stdout if done else sys.stderr, flush=True)
    return 0 if all(done for done, _ in results) else 1
