"""`clusterdeploy lock [show|release [--force]]`: who holds the cluster's lock on each host."""

from __future__ import annotations

import argparse
from typing import Any

from ..clusterspec import load_spec
from ..core.desired import host_state_dir
from ..docker.lock import lock_dir, parse_holder, remove_script, show_script
from ..errors import DeployError, on_host
from .options import add_spec, add_state_dir


def add(sub: Any) -> None:
    parser = sub.add_parser("lock", help="show or release the cluster's deploy lock")
    parser.add_argument("action", nargs="?", choices=["show", "release"], default="show")
    parser.add_argument("--force", action="store_true",
                        help="release even a lock whose holder may still run")
    add_spec(parser)
    add_state_dir(parser)
    parser.set_defaults(func=lock)


def lock(args: argparse.Namespace) -> int:
    from ..docker.engine import Engine

    spec = load_spec(args.spec)
    for host in spec.hosts:
        directory = lock_dir(host_state_dir(args.state_dir, host.name, spec.spans_hosts),
                             spec.name)
        with Engine(host) as engine:
            _, text = engine.run(show_script(directory))
            holder = parse_holder(text.strip())
            if not text.strip():
                print(f"{host.name}: cluster {spec.name} is not locked")
                continue
            who = holder.describe() if holder else f"an unreadable holder ({directory})"
            gone = holder is not None and holder.died_here()
            if args.action == "show":
                print(f"{host.name}: cluster {spec.name} is locked by {who}"
                      + (" (that process is gone: `clusterdeploy lock release` removes it)"
                         if gone else ""))
                continue
            if holder is None or not (gone or args.force):
                raise DeployError(on_host(host.name, (
                    f"cluster {spec.name} is locked by {who}, which may still run (check, "
                    f"then `clusterdeploy lock release --force`)")))
            engine.run(remove_script(directory, holder))
            print(f"{host.name}: released the lock of {who}")
    return 0
