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
