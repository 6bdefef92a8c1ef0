"""How the CLI runs pyinfra: `pyinfra -y inventory.py <script>` in the working directory.

The working directory's own `inventory.py`, `deploy.py` and `teardown.py` are used when it has
them (a project made by `clusterdeploy init`, or this repository); otherwise the package's copies
(package data). pyinfra runs in the working directory either way, so its `group_data/` applies
and the spec is found there (or where `--spec` / $CLUSTER_SPEC say). The package's copies carry
no group_data: the tunables then default as in `deploy/tunables.py`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from ..clusterspec import SPEC_ENV
from ..packagedata import package_path

ENTRY_SCRIPTS = ("inventory.py", "deploy.py", "teardown.py")


def entry_script(name: str, directory: Path | None = None) -> str:
    """`name` as pyinfra is given it when it runs in `directory` (default: the working
    directory): that directory's own file (by its bare name), else the package's copy (an
    absolute path)."""
    if name not in ENTRY_SCRIPTS:
        raise ValueError(f"not an entry script: {name}")
    own = (directory or Path.cwd()) / name
    return name if own.is_file() else str(package_path("entry", name))


def pyinfra_command(script: str, args: Sequence[str] = (),
                    directory: Path | None = None) -> list[str]:
    """`pyinfra -y <inventory> <script> ARGS...` for the working directory (`directory`)."""
    pyinfra = Path(sys.executable).parent / "pyinfra"
    return [str(pyinfra), "-y", entry_script("inventory.py", directory),
            entry_script(script, directory), *args]


def pyinfra_env(spec: str | os.PathLike[str] | None) -> Mapping[str, str]:
    """The environment of the pyinfra process: ours, with the spec named when one was given."""
    env = dict(os.environ)
    if spec:
        env[SPEC_ENV] = os.fspath(spec)
    return env


def data_args(data: Mapping[str, str] | Sequence[str]) -> list[str]:
    """`--data key=value` for each item (a mapping, or `key=value` strings)."""
    items = [f"{k}={v}" for k, v in data.items()] if isinstance(data, Mapping) else list(data)
    return [arg for item in items for arg in ("--data", item)]
