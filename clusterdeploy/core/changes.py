"""Why a container differs from the spec, in words: the causes of recreate and start actions,
and the drift `status` shows."""

from __future__ import annotations

import json

from . import labels
from .desired import DesiredContainer
from .observed import ObservedContainer


def not_running(container: ObservedContainer) -> str:
    if container.status == "exited":
        return f"not running (exited with code {container.exit_code})"
    return f"not running ({container.status})"


def describe_change(current: ObservedContainer, desired: DesiredContainer) -> str:
    """What differs, from the config the container was created with (its label)."""
    try:
        before = json.loads(current.labels.get(labels.CONFIG, "") or "null")
    except json.JSONDecodeError:
        before = None
    if not isinstance(before, dict):
        return "config changed"
    after = desired.hash_input()
    changes = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if isinstance(old, dict) and isinstance(new, dict):
            names = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
            changes.append(f"{key} changed: {', '.join(names)}")
        else:
            changes.append(f"{key} changed")
    return "; ".join(changes) or "config changed"
