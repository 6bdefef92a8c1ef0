"""`python -m clusterdeploy COMMAND`: validate, run, status, logs, schema-doc.

Exit codes: 0 success, 1 a problem a person can act on (printed one per line), 2 usage error.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from .converge_defaults import DEFAULT_STATE_DIR
from .errors import ClusterDeployError
from .spec import load_spec


def cmd_validate(args: argparse.Namespace) -> int:
    spec = load_spec(args.spec)
    nodes = ", ".join(n.name for n in spec.nodes[:6]) + (", ..." if len(spec.nodes) > 6 else "")
    print(f"{spec.display}: valid: cluster {spec.name}, {len(spec.nodes)} nodes ({nodes}), "
          f"network {spec.network.name} {spec.network.subnet}")
    return 0


def _pyinfra_data(args: argparse.Namespace) -> list[str]:
    data = [f"state_dir={args.state_dir}", *(args.data or [])]
    return [arg for item in data for arg in ("--data", item)]


def cmd_run(args: argparse.Namespace) -> int:
    from .runner import run

    spec = load_spec(args.spec)
    once = args.once or os.environ.get("CI", "").lower() in ("1", "true", "yes")
    return run(spec, once=once, pyinfra_args=_pyinfra_data(args))


def cmd_status(args: argparse.Namespace) -> int:
    from .status import observe_host, render_json, render_table, status_rows

    spec = load_spec(args.spec)
    rows = status_rows(spec, observe_host(spec, args.state_dir), args.state_dir)
    print(render_json(rows) if args.json else render_table(rows))
    return 0


def cmd_logs(args: argparse.Namespace) -> int:
    from .engine import client_for
    from .logs import collect_logs

    spec = load_spec(args.spec)
    run_dir = collect_logs(client_for(spec.hosts[0]), spec.name, spec.logs_dir)
    if run_dir is None:
        print(f"cluster {spec.name} has no containers on {spec.hosts[0].name}", file=sys.stderr)
        return 1
    print(run_dir)
    return 0


def cmd_schema_doc(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .schema_doc import reference, replace_in

    if args.write:
        changed = replace_in(Path(args.write))
        print(f"{args.write}: {'updated' if changed else 'already up to date'}")
    else:
        print(reference())
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="clusterdeploy", description=__doc__.splitlines()[0])
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    validate = sub.add_parser("validate", help="check a spec; print every problem at once")
    validate.add_argument("spec", nargs="?", help="the spec file (default: $CLUSTER_SPEC or "
                                                  "cluster.yml)")
    validate.set_defaults(func=cmd_validate)
    spec_help = "the spec file (default: $CLUSTER_SPEC or cluster.yml)"
    state_help = f"host directory of rendered files (default {DEFAULT_STATE_DIR})"

    run = sub.add_parser("run", help="deploy, run the tester's suite, shut down on Ctrl+C")
    run.add_argument("--spec", help=spec_help)
    run.add_argument("--once", action="store_true",
                     help="shut down after the suite (the default when CI is set)")
    run.add_argument("--state-dir", default=DEFAULT_STATE_DIR, help=state_help)
    run.add_argument("--data", action="append", metavar="KEY=VALUE",
                     help="pyinfra data for the deploy (repeatable)")
    run.set_defaults(func=cmd_run)

    status = sub.add_parser("status", help="one row per container: state, health, drift")
    status.add_argument("--spec", help=spec_help)
    status.add_argument("--json", action="store_true", help="JSON for scripts")
    status.add_argument("--state-dir", default=DEFAULT_STATE_DIR, help=state_help)
    status.set_defaults(func=cmd_status)

    logs = sub.add_parser("logs", help="collect every container's logs without stopping")
    logs.add_argument("--spec", help=spec_help)
    logs.set_defaults(func=cmd_logs)

    doc = sub.add_parser("schema-doc", help="print the spec reference generated from the schema")
    doc.add_argument("--write", metavar="README", help="replace the reference section in README")
    doc.set_defaults(func=cmd_schema_doc)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except ClusterDeployError as exc:
        print(str(exc), file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
