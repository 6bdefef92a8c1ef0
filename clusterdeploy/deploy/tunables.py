"""Defaults of the tunables in group_data/all.py, for code that runs without pyinfra's data,
and the checks their values need."""

from __future__ import annotations

import posixpath

from ..errors import ClusterDeployError

DEFAULT_STATE_DIR = "/var/lib/clusterdeploy"
DEFAULT_PARALLELISM = 8


def checked_state_dir(value: object) -> str:
    """The state directory: an absolute, normalized path on the Docker host (a relative one
    would land wherever the connection happens to start)."""
    text = str(value)
    if not text.startswith("/") or "\n" in text:
        raise ClusterDeployError(f"state_dir {text!r} is not an absolute path "
                                 f"(write one like {DEFAULT_STATE_DIR})")
    return posixpath.normpath(text)


def flag(value: object) -> bool:
    """A yes/no tunable: pyinfra's `--data` turns `true`/`false` into booleans and numbers
    into ints; group_data may hold either, or the words."""
    return str(value).strip().lower() in ("true", "1", "yes", "on")
