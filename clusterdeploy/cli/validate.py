"""`clusterdeploy validate [SPEC]`: every problem at once, templates rendered, build contexts
read, nothing touched on any host."""

from __future__ import annotations

import argparse
from typing import Any

from ..clusterspec import Spec, load_spec
from ..clusterspec.placement import placement_text
from ..core.images import desired_images
from ..core.render import render_cluster
from .options import SPEC_HELP


def add(sub: Any) -> None:
    parser = sub.add_parser("validate", help="check a spec; print every problem at once")
    parser.add_argument("spec", nargs="?", help=SPEC_HELP)
    parser.set_defaults(func=validate)


def validate(args: argparse.Namespace) -> int:
    spec = load_spec(args.spec)
    render_cluster(spec)
    desired_images(spec, {})  # every Dockerfile and build context readable as Docker reads it
    print(summary(spec))
    return 0


def summary(spec: Spec) -> str:
    """What a valid spec gets: its file, cluster, nodes and network; over several hosts, which
    host runs which container."""
    nodes = ", ".join(n.name for n in spec.nodes[:6]) + (", ..." if len(spec.nodes) > 6 else "")
    line = (f"{spec.display}: valid: cluster {spec.name}, {len(spec.nodes)} nodes ({nodes}), "
            f"network {spec.network.name} {spec.network.subnet}")
    if spec.spans_hosts:
        line += (f" (overlay over {len(spec.hosts)} hosts)\n  placement: "
                 f"{placement_text(spec.members, spec.hosts)}")
    return line
