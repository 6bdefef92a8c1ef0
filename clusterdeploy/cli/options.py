"""Options several commands share, worded once."""

from __future__ import annotations

import argparse

from ..deploy.tunables import DEFAULT_STATE_DIR, checked_state_dir
from ..docker.lock import DEFAULT_TIMEOUT, timeout_seconds
from ..errors import ClusterDeployError

SPEC_HELP = "the spec file (default: $CLUSTER_SPEC or cluster.yml)"
NODE_HELP = "a node as the spec names it (node2, tester) or its container's name"


def add_spec(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--spec", help=SPEC_HELP)


def add_state_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--state-dir", default=DEFAULT_STATE_DIR, type=_state_dir,
                        help=f"host directory of rendered files (default {DEFAULT_STATE_DIR})")


def add_lock_timeout(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--lock-timeout", type=timeout_seconds, default=DEFAULT_TIMEOUT,
                        metavar="SECONDS", help=f"how long to wait for {what} of the cluster "
                                                f"(default {DEFAULT_TIMEOUT:g} s)")


def _state_dir(value: str) -> str:
    try:
        return checked_state_dir(value)
    except ClusterDeployError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
