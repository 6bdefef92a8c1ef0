"""Published ports in compose short syntax, parsed into one canonical form.

The canonical form matters: it goes into the config hash, so `"40401:40404"` and
`"0.0.0.0:40401:40404/tcp"` must not look different to the planner.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

ANY_ADDRESS = "0.0.0.0"


class PortSyntaxError(ValueError):
    """A port entry that is not `[HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTO]`."""


@dataclass(frozen=True, order=True)
class PortMapping:
    """One published port: host address and port to container port."""

    container_port: int
    host_port: int | None = None
    host_ip: str = ANY_ADDRESS
    protocol: str = "tcp"

    def docker_arg(self) -> str:
        """The `--publish` value."""
        container = f"{self.container_port}/{self.protocol}"
        if self.host_port is None:
            return container if self.host_ip == ANY_ADDRESS else f"{self.host_ip}::{container}"
        return f"{self.host_ip}:{self.host_port}:{container}"

    def clashes_with(self, other: PortMapping) -> bool:
        """Two mappings on one engine that cannot both be bound."""
        if self.host_port is None or self.host_port != other.host_port:
            return False
        if self.protocol != other.protocol:
            return False
        return ANY_ADDRESS in (self.host_ip, other.host_ip) or self.host_ip == other.host_ip

    def __str__(self) -> str:
        return self.docker_arg()


def _port_number(text: str, what: str) -> int:
    if not text.isdigit():
        raise PortSyntaxError(f"{what} {text!r} is not a number")
    number = int(text)
    if not 1 <= number <= 65535:
        raise PortSyntaxError(f"{what} {number} is outside 1-65535")
    return number


def parse_port(entry: str | int) -> PortMapping:
    """Parse one compose short-syntax entry; raise PortSyntaxError saying what is wrong."""
    if isinstance(entry, int):
        return PortMapping(container_port=_port_number(str(entry), "container port"))
    text, _, protocol = entry.partition("/")
    protocol = protocol or "tcp"
    if protocol not in ("tcp", "udp"):
        raise PortSyntaxError(f"protocol {protocol!r} is not tcp or udp")
    parts = text.split(":")
    if len(parts) > 3:
        raise PortSyntaxError("too many ':'-separated parts")
    container_port = _port_number(parts[-1], "container port")
    host_port = _port_number(parts[-2], "host port") if len(parts) >= 2 and parts[-2] else None
    host_ip = ANY_ADDRESS
    if len(parts) == 3:
        try:
            host_ip = str(ipaddress.IPv4Address(parts[0]))
        except ValueError as exc:
            raise PortSyntaxError(f"host address {parts[0]!r} is not an IPv4 address") from exc
    return PortMapping(container_port, host_port, host_ip, protocol)
