"""Stable hashes: sha256 over canonical JSON (sorted keys, no whitespace variation).

Compose's issue tracker is full of recreate storms caused by unstable hash input; everything
that goes into a config or image hash passes through `canonical_hash`.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def canonical_hash(value: Any) -> str:
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
