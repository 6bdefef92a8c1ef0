"""Images onto a remote Docker host without a registry.

ship:  build on this machine when it lacks the image, `docker save` it to a file, upload the
       file over the host's connection (pyinfra's SSH), `docker load` it there.
build: upload the build context (what `.dockerignore` keeps, plus the Dockerfile) as a tar and
       run `docker build` there.
Either way the content hash decides beforehand: a host that has the hash gets nothing.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tarfile
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pyinfra.api import StringCommand

from ..core.dockerignore import context_files
from ..core.images import DesiredImage
from ..docker import commands
from ..docker.engine import Engine
from ..docker.errors import build_failure

LOCAL_BUILD_ENV = {**os.environ, **commands.BUILD_ENV}
REMOTE_TMP = "/tmp"


def build_locally(image: DesiredImage) -> tuple[bool, list[str]]:
    """Build on this machine; (ok, output lines)."""
    result = subprocess.run(commands.build_image(image), env=LOCAL_BUILD_ENV,
                            capture_output=True, text=True, check=False)
    return result.returncode == 0, (result.stdout + result.stderr).splitlines()


def ensure_local(target: DesiredImage, requires: Sequence[DesiredImage],
                 ) -> tuple[bool, DesiredImage, list[str]]:
    """Build `target` and the images it is built from (in build order) on this machine,
    where missing."""
    present = Engine().image_ids()
    for image in [*requires, target]:
        if image.ref in present:
            continue
        ok, lines = build_locally(image)
        if not ok:
            return False, image, lines
    return True, target, []


def context_tar(image: DesiredImage, destination: Path) -> str:
    """Write the build context as a tar; return the Dockerfile's path inside it."""
    try:
        dockerfile = image.dockerfile.relative_to(image.context).as_posix()
    except ValueError:
        dockerfile = ".clusterdeploy.Dockerfile"
    with tarfile.open(destination, "w") as tar:
        for rel in context_files(image.context):
            tar.add(image.context / rel, arcname=rel, recursive=False)
        if dockerfile not in tar.getnames():  # excluded by .dockerignore, or outside the context
            tar.add(image.dockerfile, arcname=dockerfile)
    return dockerfile


def upload_and_run(host: Any, local: Path, remote: str, script: str) -> tuple[bool, list[str]]:
    """Upload a file over the host's connection, then run `script` ($F is the upload)."""
    if not host.put_file(str(local), remote):
        return False, [f"upload of {local.name} to {remote} failed"]
    command = f"F={shlex.quote(remote)}; {script}; status=$?; rm -f \"$F\"; exit $status"
    ok, output = host.run_shell_command(StringCommand(command))
    return ok, output.output_lines


def ship(host: Any, image: DesiredImage, requires: Sequence[DesiredImage]) -> tuple[bool, str]:
    """Build here if needed, then save, upload and load. (ok, error message)."""
    ok, failed, lines = ensure_local(image, requires)
    if not ok:
        return False, build_failure(failed, lines, where="this machine")
    with tempfile.TemporaryDirectory(prefix="clusterdeploy-ship-") as tmp:
        archive = Path(tmp) / f"{image.tag.replace('/', '_')}-{image.hash[:16]}.tar"
        saved = subprocess.run(["docker", "save", "-o", str(archive), image.ref],
                               capture_output=True, text=True, check=False)
        if saved.returncode != 0:
            return False, f"docker save {image.ref} failed here: {saved.stderr.strip()}"
        remote = f"{REMOTE_TMP}/{archive.name}"
        load = (f'docker load -i "$F" >/dev/null && '
                f"{shlex.join(commands.tag_image(image.ref, image.latest))}")
        ok, lines = upload_and_run(host, archive, remote, load)
    if not ok:
        return False, f"loading {image.ref} on {host.name} failed: {' '.join(lines[-3:])}"
    return True, ""


def build_remotely(host: Any, image: DesiredImage) -> tuple[bool, str]:
    """Upload the context and build on the host."""
    with tempfile.TemporaryDirectory(prefix="clusterdeploy-ctx-") as tmp:
        archive = Path(tmp) / f"context-{image.hash[:16]}.tar"
        dockerfile = context_tar(image, archive)
        build = commands.build_shell(image, context="-", dockerfile=dockerfile) + ' < "$F"'
        ok, lines = upload_and_run(host, archive, f"{REMOTE_TMP}/{archive.name}", build)
    return (True, "") if ok else (False, build_failure(image, lines, where=host.name))
