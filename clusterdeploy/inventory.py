"""The pyinfra inventory built from the validated spec.

The spec is loaded and validated once, here, before pyinfra connects to anything; a bad spec
prints every problem and exits 1. Each Docker host carries the Spec as host data.
"""

from __future__ import annotations

import sys
from typing import Any

from .errors import SpecError
from .spec import Spec, load_spec

LOCAL = "@local"


def load_or_exit() -> Spec:
    try:
        return load_spec()
    except SpecError as exc:
        print(str(exc), file=sys.stderr)
        raise SystemExit(1) from None


def docker_hosts(spec: Spec | None = None) -> list[tuple[str, dict[str, Any]]]:
    """The inventory group of Docker hosts: `local` is the local engine (`@local`)."""
    spec = spec or load_or_exit()
    return [(LOCAL if name == "local" else name, {"cluster_spec": spec}) for name in spec.hosts]
