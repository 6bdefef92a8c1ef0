"""Why a container differs from the spec, in words: the causes of recreate and start actions,
and the drift `status` shows."""

from __future__ import annotations

import json

from . import labels
from .desired import DesiredContainer
from .observed import Attachment, ObservedContainer


def not_running(container: ObservedContainer) -> str:
    if container.status == "exited":
        oom = ", OOM-killed" if container.oom_killed else ""
        return f"not running (exited with code {container.exit_code}{oom})"
    return f"not running ({container.status})"


def describe_change(current: ObservedContainer, desired: DesiredContainer) -> str:
    """What differs, from the config the container was created with (its label)."""
    try:
        before = json.loads(current.labels.get(labels.CONFIG, "") or "null")
    except json.JSONDecodeError:
        before = None
    if not isinstance(before, dict):
        return "config changed"
    after = desired.label_input()
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


def drift(desired: DesiredContainer, attachment: Attachment | None) -> str:
    """How the container's wiring differs from its config ("" when it does not): the network,
    its address and alias, the published ports, the rendered-files mount, the hostname."""
    if attachment is None:
        return ""
    found = []
    wired = attachment.networks.get(desired.network)
    if wired is None:
        found.append(f"not attached to {desired.network}")
    else:
        address, aliases = wired
        if address != desired.address:
            found.append(f"address {address or 'none'}, want {desired.address}")
        if desired.hostname not in aliases:
            found.append(f"alias {desired.hostname} missing on {desired.network}")
    others = sorted(set(attachment.networks) - {desired.network})
    if others:
        found.append(f"also attached to {', '.join(others)}")
    wanted_ports = {str(p) for p in desired.ports}
    if attachment.ports != wanted_ports:
        missing = sorted(wanted_ports - attachment.ports)
        extra = sorted(attachment.ports - wanted_ports)
        found.append("published ports differ: " + "; ".join(filter(None, [
            f"missing {', '.join(missing)}" if missing else "",
            f"extra {', '.join(extra)}" if extra else ""])))
    for mount in desired.files_mount:
        if mount not in attachment.mounts:
            found.append(f"mount {mount} missing")
    if attachment.hostname != desired.hostname:
        found.append(f"hostname {attachment.hostname}, want {desired.hostname}")
    return "; ".join(found)
