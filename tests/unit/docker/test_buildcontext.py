"""The streamed build context must be recognised by the Docker CLI's 512-byte peek."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

from clusterdeploy.docker.buildcontext import GZIP_MAGIC, open_context


def test_a_streamed_context_starts_with_gzip_s_magic_and_reads_back(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM debian:bookworm\n")
    long_name = "d" * 120
    (tmp_path / long_name).write_text("x")
    buffer = io.BytesIO()
    with open_context(buffer) as tar:
        tar.add(tmp_path / long_name, arcname=long_name)  # a first entry with extra headers
        tar.add(tmp_path / "Dockerfile", arcname="Dockerfile")
    data = buffer.getvalue()
    assert data[:2] == GZIP_MAGIC
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        assert tar.getnames() == [long_name, "Dockerfile"]
        member = tar.extractfile("Dockerfile")
        assert member is not None and member.read() == b"FROM debian:bookworm\n"


def test_a_plain_tar_would_start_with_a_pax_header_the_cli_cannot_peek_past(
        tmp_path: Path) -> None:
    """Why gzip: Python's tar writes a PAX header first, so 512 bytes hold no file header."""
    (tmp_path / "Dockerfile").write_text("FROM debian:bookworm\n")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        tar.add(tmp_path / "Dockerfile", arcname="Dockerfile")
    assert buffer.getvalue()[156:157] == b"x"  # typeflag of a PAX extended header
