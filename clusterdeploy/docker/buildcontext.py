"""A build context as `docker build -` takes it from its stdin.

The CLI treats stdin as a context only when its first 512 bytes parse as an archive. Python's
tar writes a PAX header first (for float modification times), which that peek cannot parse,
so the CLI took the stream for a Dockerfile and failed with "ambiguous Dockerfile source".
A gzip stream is known by its magic bytes whatever its first entry, and is smaller on the wire.
"""

from __future__ import annotations

import tarfile
from typing import IO

GZIP_MAGIC = b"\x1f\x8b"


def open_context(destination: IO[bytes]) -> tarfile.TarFile:
    """A tar writer into `destination` that `docker build -` recognises as a context."""
    return tarfile.open(fileobj=destination, mode="w:gz", compresslevel=1)
