"""Documents the schema accepted before, remembered by content, so an unchanged spec is not
validated again.

Validating a spec means importing jsonschema and its dependencies (0.07-0.14 s) and running
it (0.01 s at 5 nodes, more at 100): a sixth of a no-op deploy's own time, on every run of
every command, for a file that rarely changes. A document the schema accepted is remembered
as an empty file named by a digest of everything its verdict depends on: the document, the
schema, the validating code (schema.py) and jsonschema's version. Only acceptance is
remembered; a document with problems is validated every time (its messages come from
jsonschema). A document holding anything but JSON's types (YAML dates, non-string keys) is
never remembered: its JSON form could equal another document's. The folder is the user's
cache ($XDG_CACHE_HOME or ~/.cache)/clusterdeploy/valid-specs, private, pruned to its newest
entries; when it cannot be read or written, every document is validated.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

KEEP = 256  # entries kept when the folder is pruned (at twice as many)
_SCALARS = (str, int, float, bool, type(None))


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "clusterdeploy" / "valid-specs"


def _plain_json(value: Any) -> bool:
    """Only JSON's own types, with string keys (so the JSON text is the document)."""
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain_json(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_plain_json(v) for v in value)
    return isinstance(value, _SCALARS)


@cache
def _verdict_inputs(schema_text: str) -> bytes:
    """What a verdict depends on besides the document: the schema, the code that validates
    (schema.py, this file's neighbour) and jsonschema's version."""
    code = (Path(__file__).parent / "schema.py").read_bytes()
    try:
        engine = metadata.version("jsonschema")
    except metadata.PackageNotFoundError:
        engine = "unknown"
    return hashlib.sha256(b"\0".join([schema_text.encode(), code, engine.encode()])).digest()


def document_key(document: Any, schema_text: str, definition: str | None) -> str | None:
    """The digest naming a document's verdict; None when it must not be remembered."""
    if not _plain_json(document):
        return None
    try:
        text = json.dumps(document, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except ValueError:  # NaN or infinity
        return None
    digest = hashlib.sha256(_verdict_inputs(schema_text))
    digest.update(f"\0{definition or ''}\0".encode())
    digest.update(text.encode())
    return digest.hexdigest()


def known_valid(key: str | None) -> bool:
    return key is not None and (cache_dir() / key).is_file()


def remember_valid(key: str | None) -> None:
    """Record an accepted document; failures (read-only home, full disk) are ignored."""
    if key is None:
        return
    folder = cache_dir()
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(folder / key, os.O_WRONLY | os.O_CREAT, 0o600))
        entries = list(os.scandir(folder))
        if len(entries) > 2 * KEEP:
            entries.sort(key=lambda e: e.stat().st_mtime, reverse=True)
            for old in entries[KEEP:]:
                os.unlink(old.path)
    except OSError:
        pass
