"""Docker's common, cryptic errors rewritten into what a person can do about them."""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..core.images import DesiredImage

RLIMIT_NAMES = ("cpu", "fsize", "data", "stack", "core", "rss", "nproc", "nofile", "memlock",
                "as", "locks", "sigpending", "msgqueue", "nice", "rtprio", "rttime")


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
    rlimit = re.search(r"error setting rlimit type (\d+): operation not permitted", text)
    if rlimit:
        number = int(rlimit.group(1))
        name = RLIMIT_NAMES[number] if number < len(RLIMIT_NAMES) else f"type {number}"
        return (f"{where}: the engine may not raise the {name} limit that ulimits.{name} asks "
                f"for: dockerd's own hard limit is lower (lower ulimits.{name}, or raise the "
                f"engine's limit, e.g. LimitNOFILE= in its systemd unit)")
    return f"{where}: {reason(text)}"


def reason(text: str) -> str:
    """Docker's own reason: the daemon's answer, not the CLI's summary line after it."""
    lines = text.splitlines()
    daemon = [line for line in lines if line.startswith("Error response from daemon:")]
    if daemon:
        return daemon[-1].removeprefix("Error response from daemon:").strip()
    return lines[-1] if lines else "failed without output"


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
