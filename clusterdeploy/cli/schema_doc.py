"""`clusterdeploy schema-doc [--write README]`: the spec reference generated from the schema."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add(sub: Any) -> None:
    parser = sub.add_parser("schema-doc",
                            help="print the spec reference generated from the schema")
    parser.add_argument("--write", metavar="README",
                        help="replace the reference section in README")
    parser.set_defaults(func=schema_doc)


def schema_doc(args: argparse.Namespace) -> int:
    from ..clusterspec.doc import reference, replace_in

    if args.write:
        changed = replace_in(Path(args.write))
        print(f"{args.write}: {'updated' if changed else 'already up to date'}")
    else:
        print(reference())
    return 0
