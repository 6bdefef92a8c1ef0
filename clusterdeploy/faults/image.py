"""The fault helper image: built by clusterdeploy by content hash, like the spec's images, and
only when a fault is applied or healed. Local engine: built there. Remote host: built here and
shipped (`docker save` into `docker load` over the SSH connection), or built there with
`images: build`. A spec's `faults.helper_image` replaces it (nothing is built)."""

from __future__ import annotations

import io
import subprocess
from collections.abc import Iterator, Mapping

from ..core.hashing import canonical_hash
from ..core.images import (
    MISSING,
    DesiredImage,
    context_digest,
    external_bases,
    normalize_ref,
)
from ..docker import commands
from ..docker.buildcontext import open_context
from ..docker.engine import Engine
from ..docker.errors import build_failure
from ..errors import DeployError, on_host
from ..packagedata import package_path

KEY = "fault-helper"
TAG = "clusterdeploy-fault-helper"
ARGS = {"BASE_IMAGE": "debian:bookworm"}
CHUNK = 1 << 20


def helper_image(base_ids: Mapping[str, str]) -> DesiredImage:
    """The helper's identity where it is built (`base_ids`: the image IDs there)."""
    context = package_path("faults", "helper")
    dockerfile = context / "Dockerfile"
    text = dockerfile.read_text(encoding="utf-8")
    bases = tuple(normalize_ref(r) for r in external_bases(text, ARGS, set()))
    image_hash = canonical_hash({
        "dockerfile": text, "context": context_digest(context), "args": ARGS, "requires": {},
        "bases": {ref: base_ids.get(ref, MISSING) for ref in bases}})
    return DesiredImage(KEY, TAG, image_hash, dockerfile, context, dict(ARGS), (), bases)


def _build_here(engine: Engine, image: DesiredImage, where: str) -> None:
    result = engine.run_script(commands.build_shell(image, tag_latest=False))
    if result.status != 0:
        raise DeployError(build_failure(image, (result.stdout + result.stderr).splitlines(),
                                        where=where))


def _context_tar(image: DesiredImage) -> Iterator[bytes]:
    buffer = io.BytesIO()
    with open_context(buffer) as tar:
        tar.add(image.dockerfile, arcname="Dockerfile")
    yield buffer.getvalue()


def _saved(ref: str) -> Iterator[bytes]:
    save = subprocess.Popen(["docker", "save", "--", ref], stdout=subprocess.PIPE)
    assert save.stdout is not None
    with save.stdout:
        while chunk := save.stdout.read(CHUNK):
            yield chunk
    if save.wait() != 0:
        raise DeployError(f"docker save {ref} failed here")


def ensure_helper(engine: Engine, configured: str | None = None) -> tuple[str, str]:
    """The helper image's reference on the engine's host, and how it got there when it was
    missing ("built", "shipped", or "" when it was there)."""
    if configured:
        return configured, ""
    host = engine.host
    on_host_ids = engine.image_ids()
    if not host.ships_images:
        image = helper_image(on_host_ids)
        if image.ref in on_host_ids:
            return image.ref, ""
        if host.is_local:
            _build_here(engine, image, "")
            return image.ref, "built"
        build = commands.build_shell(image, tag_latest=False, context="-",
                                     dockerfile="Dockerfile")
        status, lines = engine.stream_into(build, _context_tar(image))
        if status != 0:
            raise DeployError(build_failure(image, lines, where=host.name))
        return image.ref, "built"
    with Engine() as here:
        image = helper_image(here.image_ids())
        if image.ref in on_host_ids:
            return image.ref, ""
        if image.ref not in here.image_ids():
            _build_here(here, image, "this machine")
        status, lines = engine.stream_into("docker load", _saved(image.ref))
    if status != 0:
        raise DeployError(on_host(host.name, f"loading {image.ref} failed: "
                                             f"{' '.join(lines[-3:]) or 'no output'}"))
    return image.ref, "shipped"
