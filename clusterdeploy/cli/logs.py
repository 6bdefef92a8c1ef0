"""`clusterdeploy logs`: collect every container's logs into a folder, stop nothing;
`clusterdeploy logs [-f] [--tail N] [--raw] NODE...`: print (and follow) nodes' logs."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from typing import Any

from ..clusterspec import load_spec
from ..core.desired import faults_dir, host_state_dir
from .options import NODE_HELP, add_spec, add_state_dir


def add(sub: Any) -> None:
    parser = sub.add_parser(
        "logs", help="print or follow nodes' logs; without NODE or -f, collect them all",
        description="With NODE... or -f: the nodes' logs (every node's without NODE), merged "
                    "in time order, each line prefixed by its node; JSON lines shown as `time "
                    "level message fields`. -f follows until Ctrl+C (exit 0), across restarts. "
                    "Without NODE and -f: collect every container's logs into a new folder "
                    "of the spec's logs dir and print its path.")
    parser.add_argument("nodes", nargs="*", metavar="NODE", help=NODE_HELP)
    parser.add_argument("-f", "--follow", action="store_true",
                        help="keep printing new lines until Ctrl+C")
    parser.add_argument("--tail", type=_count, metavar="N",
                        help="only the last N lines of each node before following "
                             "(default: all)")
    parser.add_argument("--raw", action="store_true",
                        help="each line exactly as the node wrote it (prefixed by its node "
                             "only when several are shown)")
    add_spec(parser)
    add_state_dir(parser)
    parser.set_defaults(func=logs, parser=parser)


def _count(value: str) -> int:
    if not value.isdigit():
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of lines (0, 1, 2, ...)")
    return int(value)


def colour_wanted(stream: Any) -> bool:
    """Colours on a terminal, unless NO_COLOR is set (no-color.org) or TERM is dumb."""
    return (stream.isatty() and not os.environ.get("NO_COLOR")
            and os.environ.get("TERM") != "dumb")


def logs(args: argparse.Namespace) -> int:
    from ..lifecycle.follow import Output, show
    from ..lifecycle.logview import Printer, Style
    from ..lifecycle.nodes import resolve

    if not args.nodes and not args.follow:
        if args.tail is not None or args.raw:
            args.parser.error("--tail and --raw print nodes' logs: name a NODE or add -f "
                              "(without them, logs collects every container's logs)")
        return collect(args)
    spec = load_spec(args.spec)
    members = resolve(spec, args.nodes) if args.nodes else list(spec.members)
    colours = {m.name: i for i, m in enumerate(spec.members)}
    printer = Printer([m.name for m in members], colours, Style(colour_wanted(sys.stdout)),
                      raw=args.raw)
    out = Output(printer, write=lambda text: sys.stdout.write(text + "\n"),
                 notice=lambda text: print(text, file=sys.stderr, flush=True),
                 flush=sys.stdout.flush)
    try:
        return show(spec, members, out, args.tail, args.follow, sys.stdout)
    except KeyboardInterrupt:
        return 0  # Ctrl+C is how following ends


def collect(args: argparse.Namespace) -> int:
    from ..docker.engine import Engine
    from ..docker.logs import LogSource, collect_from
    from ..report import try_write_report

    spec = load_spec(args.spec)
    with contextlib.ExitStack() as stack:
        sources = [LogSource(stack.enter_context(Engine(host)),
                             host.name if spec.spans_hosts else "",
                             faults_dir(spec.name, host_state_dir(args.state_dir, host.name,
                                                                  spec.spans_hosts)))
                   for host in spec.hosts]
        run_dir = collect_from(sources, spec.name, spec.logs_dir, before_stop=True)
    if run_dir is None:
        where = ", ".join(h.name for h in spec.hosts)
        print(f"cluster {spec.name} has no containers on {where}", file=sys.stderr)
        return 1
    print(run_dir)
    print(f"report: {try_write_report(run_dir)}", file=sys.stderr)
    return 0
