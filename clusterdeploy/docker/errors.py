"""Docker's common, cryptic errors rewritten into what a person can do about them."""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..core.images import DesiredImage


def explain(host: str, node: str, output: str, image: str = "") -> str:
    """One line for a failed create/start: the host, the node, what happened, how to fix it."""
    where = f"{host}: {node}"
    text = output.strip()
    if "unable to apply caps" in text or ("privileged" in text and "operation not permitted"
                                          in text):
        return (f"{where}: the engine cannot grant every capability a privileged container "
                f"needs ('unable to apply caps: operation not permitted') (set privileged: false "
                f"and list what the node needs in cap_add, e.g. [NET_ADMIN, NET_RAW, SYS_PTRACE])")
    port = re.search(r"(?:Bind for |listen tcp4? )([0-9.]*):(\d+)(?: failed)?", text)
    if port and ("already allocated" in text or "address already in use" in text):
        address, number = port.group(1) or "0.0.0.0", port.group(2)
        return (f"{where}: host port {address}:{number} is already in use by another process or "
                f"container (free it, or publish this node on another host port)")
    if "No such image" in text or "Unable to find image" in text or "pull access denied" in text:
        return (f"{where}: image {image or '?'} is not on the host (the build of its `images` "
                f"entry should have made it; redeploy, or build it by hand if it is not built "
                f"by clusterdeploy)")
    if "Address already in use" in text and "IP" in text:
        return f"{where}: its address is taken in the network (check network.subnet and address)"
    if "is already in use by container" in text:
        return (f"{where}: the container name is taken by a container outside the cluster "
                f"(remove or rename it)")
    last = text.splitlines()[-1] if text else "failed without output"
    return f"{where}: {last}"


def failing_step(lines: Sequence[str]) -> str:
    """The build step that failed: the legacy builder's `Step N/M :` (or a BuildKit step)."""
    for line in reversed(lines):
        if re.match(r"^(Step \d+/\d+ :|#\d+ \[)", line):
            return line.strip()
    return "unknown step"


def build_failure(image: DesiredImage, lines: Sequence[str], where: str = "",
                  tail: int = 25) -> str:
    place = f" on {where}" if where else ""
    shown = "\n".join("    " + line for line in lines[-tail:])
    return (f"build of images.{image.key} ({image.ref}){place} failed at {failing_step(lines)}\n"
            f"  last lines of the build output:\n{shown}")
