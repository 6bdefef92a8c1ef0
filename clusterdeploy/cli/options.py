"""Options several commands share, worded once."""

from __future__ import annotations

import argparse

from ..deploy.tunables import DEFAULT_STATE_DIR, checked_state_dir
from ..errors import ClusterDeployError

SPEC_HELP = "the spec file (default: $CLUSTER_SPEC or cluster.yml)"


def add_spec(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--spec", help=SPEC_HELP)


def add_state_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--state-dir", default=DEFAULT_STATE_DIR, type=_state_dir,
                        help=f"host directory of rendered files (default {DEFAULT_STATE_DIR})")


def _state_dir(value: str) -> str:
    try:
        return checked_state_dir(value)
    except ClusterDeployError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
