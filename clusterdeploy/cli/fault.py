"""`clusterdeploy fault ...`: break the cluster on purpose, see what is broken, heal it.

    fault partition node1,node2 node3,node4,node5    groups that cannot reach each other
    fault partition --shape majority-ring [--seed N]  a shape drawn from a seed
    fault partition --from node1 --to node2          one-way
    fault isolate node3 | loss node2 --percent 30 | rate node2 --rate 1mbit
    fault delay node2 --delay 100ms | pause node4 | kill node4 | stop node4
    fault unpause node4 | start node4                heal those
    fault list [--json]                              what is active, since when, where
    fault heal [ID ...] [--all]                      heal them (--all: also sweep every node)

Changes take the cluster lock; `list` does not.
"""

from __future__ import annotations

import argparse
import json
import secrets
from typing import TYPE_CHECKING, Any

from ..clusterspec import Spec, load_spec
from ..clusterspec.faults import KILL, KINDS, PAUSE, STOP, FaultDef, fault_problems
from ..docker.lock import (
    DEFAULT_TIMEOUT,
    ClusterLock,
    Holder,
    command_line,
    lock_dir,
    timeout_seconds,
)
from ..errors import ClusterDeployError
from ..faults.model import concrete, new_id
from .options import add_spec, add_state_dir

if TYPE_CHECKING:
    from ..faults.executor import FaultExecutor

HEALS = {"unpause": (PAUSE,), "start": (KILL, STOP)}


def add(sub: Any) -> None:
    parser = sub.add_parser("fault", help="inject a fault, list or heal faults",
                            description=__doc__.split("\n\n")[0])
    kinds = parser.add_subparsers(dest="fault", required=True, metavar="FAULT")
    for kind in (*KINDS, *HEALS, "list", "heal"):
        one = kinds.add_parser(kind, help=HELP[kind])
        add_spec(one)
        add_state_dir(one)
        if kind not in ("list",):
            one.add_argument("--lock-timeout", type=timeout_seconds, default=DEFAULT_TIMEOUT,
                             metavar="SECONDS", help="how long to wait for the cluster lock")
        ARGS.get(kind, _nodes)(one)
        one.set_defaults(func=fault)


HELP = {
    "partition": "groups of nodes that cannot reach each other (or --shape, --from/--to)",
    "isolate": "cut nodes from every other node", "loss": "drop a share of packets on links",
    "rate": "limit the bandwidth of links", "delay": "delay packets on links (needs netem)",
    "pause": "freeze nodes (docker pause)", "kill": "SIGKILL nodes' main process",
    "stop": "stop nodes", "unpause": "heal a pause", "start": "heal a kill or stop",
    "list": "the active faults", "heal": "heal faults (all without ID)",
}


def _names(text: str) -> tuple[str, ...]:
    return tuple(part for part in text.split(",") if part)


def _nodes(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("nodes", type=_names, metavar="NODES", help="node1,node2,...")


def _partition(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("groups", nargs="*", type=_names, metavar="GROUP",
                        help="a group: node1,node2 (nodes left out form one more group)")
    parser.add_argument("--shape", help="halves, majority-ring, bridge or random-node")
    parser.add_argument("--seed", type=int, help="the seed a shape is drawn from")
    parser.add_argument("--from", dest="from_", type=_names, default=(), metavar="NODES")
    parser.add_argument("--to", type=_names, default=(), metavar="NODES")


def _links(extra: str, **options: Any) -> Any:
    def add_options(parser: argparse.ArgumentParser) -> None:
        _nodes(parser)
        parser.add_argument("--peers", type=_names, default=(), metavar="NODES",
                            help="only their links with these (default: every other node)")
        parser.add_argument(f"--{extra}", **options)
        if extra == "delay":
            parser.add_argument("--jitter", default="0ms", help="e.g. 10ms")
    return add_options


def _list(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="JSON for scripts")


def _heal(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("ids", nargs="*", metavar="ID", help="faults to heal (default: all)")
    parser.add_argument("--all", action="store_true",
                        help="also sweep every node for rules and pauses the journal does "
                             "not name")


ARGS = {"partition": _partition, "loss": _links("percent", type=float, required=True),
        "rate": _links("rate", required=True), "delay": _links("delay", required=True),
        "list": _list, "heal": _heal}


def definition(args: argparse.Namespace) -> FaultDef:
    from ..clusterspec.durations import parse_duration

    kind = args.fault
    if kind == "partition":
        return FaultDef(kind, groups=tuple(args.groups), shape=args.shape, from_=args.from_,
                        to=args.to)
    try:
        delay = parse_duration(args.delay) if kind == "delay" else None
        jitter = parse_duration(args.jitter) if kind == "delay" else 0.0
    except ValueError as exc:
        raise ClusterDeployError(f"fault {kind}: {exc}") from None
    return FaultDef(kind, nodes=args.nodes, peers=getattr(args, "peers", ()),
                    percent=getattr(args, "percent", None), rate=getattr(args, "rate", None),
                    delay=delay, jitter=jitter)


def fault(args: argparse.Namespace) -> int:
    from ..docker.engine import Engine
    from ..faults.executor import FaultExecutor

    spec = load_spec(args.spec)
    if spec.spans_hosts:
        raise ClusterDeployError(f"{spec.display}: fault injection works on a cluster on one "
                                 f"host; cluster {spec.name} spans {len(spec.hosts)} (deploy "
                                 f"a copy with one entry in hosts: to break it on purpose)")
    if args.fault == "list":
        return list_faults(spec, args)
    host = spec.hosts[0]
    members = [m.name for m in spec.members]
    if args.fault in KINDS:
        wanted = definition(args)
        problems = fault_problems(wanted, members)
        if problems:
            raise ClusterDeployError("\n".join(f"fault {args.fault}: {what} ({fix})"
                                               for _, what, fix in problems))
    with Engine(host) as engine:
        lock = ClusterLock(engine.run, host.name, lock_dir(args.state_dir, spec.name),
                           Holder.here(command_line()))
        lock.acquire(args.lock_timeout, say=print)
        try:
            executor = FaultExecutor(engine, spec, args.state_dir, by=_by(lock), say=print)
            for line in executor.resync():
                print(f"{host.name}: {line}")
            if args.fault in KINDS:
                seed = args.seed if getattr(args, "seed", None) is not None else (
                    secrets.randbelow(2**31) if wanted.shape else None)
                applied = concrete(wanted, members, new_id(args.fault), seed=seed)
                when = executor.apply(applied)
                print(f"{host.name}: {applied.id} applied at {when}: {applied.describe()}"
                      + (f" (seed {seed})" if seed is not None else ""))
                print(f"heal it with: clusterdeploy fault heal {applied.id}")
                return 0
            return heal(executor, spec, args, host.name)
        finally:
            lock.release()


def _by(lock: ClusterLock) -> str:
    return lock.holder.describe().split(" since ")[0]


def heal(executor: FaultExecutor, spec: Spec, args: argparse.Namespace, where: str) -> int:
    ids = list(args.ids) if args.fault == "heal" and args.ids else None
    if args.fault in HEALS:
        kinds = HEALS[args.fault]
        entries = executor.entries()
        ids = [e.id for e in entries if e.fault.kind in kinds
               and set(e.fault.targets) & set(args.nodes)]
        covered = {n for e in entries if e.id in ids for n in e.fault.targets}
        missing = [n for n in args.nodes if n not in covered]
        if missing:
            raise ClusterDeployError(f"fault {args.fault}: {', '.join(missing)} has no active "
                                     f"{' or '.join(kinds)} fault (`clusterdeploy fault list`)")
    healed, when = executor.heal(ids, sweep=args.fault == "heal" and args.all)
    for entry in healed:
        print(f"{where}: {entry.id} healed at {when}: {entry.fault.describe()}")
    if not healed:
        print(f"{where}: no fault of cluster {spec.name} to heal"
              + (" (swept every node)" if getattr(args, "all", False) else ""))
    return 0


def list_faults(spec: Spec, args: argparse.Namespace) -> int:
    from ..docker.engine import Engine
    from ..faults.executor import FaultExecutor
    from ..lifecycle.faults import fault_rows, render_fault_table

    rows = []
    for host in spec.hosts:
        with Engine(host) as engine:
            rows += fault_rows(FaultExecutor(engine, spec, args.state_dir))
    if args.json:
        print(json.dumps(rows, indent=2))
    elif rows:
        print(render_fault_table(rows))
    else:
        print(f"no active fault in cluster {spec.name}")
    return 0
