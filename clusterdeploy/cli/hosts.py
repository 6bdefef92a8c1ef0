"""`clusterdeploy hosts`: the /etc/hosts lines of the cluster's nodes, to add by hand (what
`host_names: true` keeps in the Docker host's /etc/hosts)."""

from __future__ import annotations

import argparse
from typing import Any

from ..clusterspec import load_spec
from ..core.hostsfile import hosts_block
from .options import add_spec


def add(sub: Any) -> None:
    parser = sub.add_parser("hosts", help="print /etc/hosts lines for the cluster's nodes")
    add_spec(parser)
    parser.set_defaults(func=hosts)


def hosts(args: argparse.Namespace) -> int:
    print(hosts_block(load_spec(args.spec)), end="")
    return 0
