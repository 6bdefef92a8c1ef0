"""`clusterdeploy init [DIR]`: scaffold a project in your repository; never overwrites a file."""

from __future__ import annotations

import argparse
import os
import shlex
from pathlib import Path
from typing import Any

from ..scaffold import Options, Outcome, init_project
from ..scaffold.spec import cluster_name
from .validate import summary

DEFAULT_NODES = 3
DEFAULT_PORT = 8080
DEFAULT_PUBLISH = 40400


def add(sub: Any) -> None:
    parser = sub.add_parser(
        "init", help="scaffold a project: cluster.yml, entry points, templates, a suite",
        description="Write a commented cluster.yml, pyinfra's inventory.py, deploy.py and "
                    "teardown.py, group_data/all.py, run_tests.sh and the templates into DIR. "
                    "Never overwrites a file; does nothing where a cluster.yml exists.")
    parser.add_argument("directory", nargs="?", default=".", metavar="DIR",
                        help="the project directory, e.g. your repository (default: here)")
    parser.add_argument("--name", help="the cluster's name (default: from DIR's name)")
    parser.add_argument("--nodes", type=int, default=DEFAULT_NODES,
                        help=f"how many nodes (default {DEFAULT_NODES})")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--image", metavar="REF",
                        help="run an image the Docker host has, e.g. nginx:latest (needs "
                             "--command); nothing is built")
    source.add_argument("--dockerfile", metavar="PATH",
                        help="build the nodes' image from this Dockerfile, relative to DIR "
                             "(default: DIR/Dockerfile, a starter written when missing)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help=f"the port the service listens on (default {DEFAULT_PORT})")
    parser.add_argument("--command", metavar="'PROG ARGS'",
                        help="the service's command line (default: the Dockerfile's CMD)")
    parser.add_argument("--publish", type=int, default=DEFAULT_PUBLISH, metavar="BASE",
                        help="publish node i's port on 127.0.0.1:BASE+i "
                             f"(default {DEFAULT_PUBLISH})")
    parser.add_argument("--subnet", metavar="CIDR",
                        help="the cluster network's subnet (default: 172.28.N.0/24, N from the "
                             "name)")
    parser.set_defaults(func=init)


def init(args: argparse.Namespace) -> int:
    directory = Path(args.directory)
    options = Options(
        name=args.name or cluster_name(directory.resolve().name), nodes=args.nodes,
        port=args.port, publish=args.publish, command=args.command, image=args.image,
        dockerfile=args.dockerfile, subnet=args.subnet)
    outcome = init_project(directory, options)
    report(outcome)
    if outcome.problems is not None:
        raise outcome.problems
    next_steps(outcome)
    return 0


def report(outcome: Outcome) -> None:
    print(f"clusterdeploy init: {outcome.directory}")
    for file in outcome.written:
        print(f"  wrote    {file.path}" + (f"  ({file.note})" if file.note else ""))
    for path in outcome.skipped:
        print(f"  skipped  {path}  (already there; left as it is)")
    for note in outcome.notes:
        print(f"note: {note}")
    if outcome.spec is not None:
        print(summary(outcome.spec))


def next_steps(outcome: Outcome) -> None:
    here = Path.cwd().resolve()
    relative = os.path.relpath(outcome.directory, here)
    cd = [] if outcome.directory == here else [f"cd {shlex.quote(relative)}"]
    print("next steps:")
    for step in [*cd,
                 "$EDITOR Dockerfile cluster.yml   # your service: its image, command, ports",
                 "clusterdeploy validate",
                 "pyinfra -y inventory.py deploy.py",
                 "./run_tests.sh --once            # the suite: docker-test/templates/check.sh.j2",
                 "pyinfra -y inventory.py teardown.py"]:
        print(f"  {step}")
