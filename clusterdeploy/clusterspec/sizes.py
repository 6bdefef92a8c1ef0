"""Docker's sizes (`512m`, `1g`, `64k`, plain bytes) to bytes."""

from __future__ import annotations

import re

_SIZE = re.compile(r"([0-9]+(?:\.[0-9]+)?)([bkmg]?)", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}


def parse_size(text: str) -> int:
    """Bytes in a size the schema has already checked."""
    match = _SIZE.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not a size like 512m or 1g")
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()])
