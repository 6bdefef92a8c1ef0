"""`python -m clusterdeploy COMMAND`: validate (more commands join as they land).

Exit codes: 0 success, 1 a problem a person can act on (printed one per line), 2 usage error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from .errors import ClusterDeployError
from .spec import load_spec


def cmd_validate(args: argparse.Namespace) -> int:
    spec = load_spec(args.spec)
    nodes = ", ".join(n.name for n in spec.nodes[:6]) + (", ..." if len(spec.nodes) > 6 else "")
    print(f"{spec.display}: valid: cluster {spec.name}, {len(spec.nodes)} nodes ({nodes}), "
          f"network {spec.network.name} {spec.network.subnet}")
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="clusterdeploy", description=__doc__.splitlines()[0])
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    validate = sub.add_parser("validate", help="check a spec; print every problem at once")
    validate.add_argument("spec", nargs="?", help="the spec file (default: $CLUSTER_SPEC or "
                                                  "cluster.yml)")
    validate.set_defaults(func=cmd_validate)
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
