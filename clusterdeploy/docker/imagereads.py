"""How the observation reads a host's images: every one listed (`docker images`, and those
clusterdeploy built), or only the references a deploy's plan looks up, each inspected by name
with its ID, whether clusterdeploy built it, and its other tags. A listing costs dockerd ~1 ms
per image on the host; the named references settle a no-op (deploy/reading.py decides when
they do not)."""

from __future__ import annotations

import json
import shlex
from collections.abc import Sequence

from ..core import labels
from ..errors import DeployError, docker_unreachable, on_host
from .batch import MARK, PREAMBLE, fail_on_error, read_sections

IMAGES_FORMAT = "{{.Repository}}:{{.Tag}}\t{{.ID}}"
# `docker image inspect` of one named reference: its ID, clusterdeploy's build label, its tags.
# (`index` of an image without labels is a template error, hence the `if`.)
IMAGE_REF_FORMAT = ("{{.Id}}\t{{if .Config.Labels}}"
                    f'{{{{index .Config.Labels "{labels.IMAGE_HASH}"}}}}{{{{end}}}}'
                    "\t{{json .RepoTags}}")
NO_SUCH_IMAGE = "No such image"

def listing_lines() -> list[str]:
    return [f"call img docker images --no-trunc --format {shlex.quote(IMAGES_FORMAT)} &",
            f"call own docker images --no-trunc --filter label={shlex.quote(labels.IMAGE_HASH)} "
            "--format '{{.ID}}' &"]


def listing_checks() -> list[str]:
    return ["for part in img own; do", *fail_on_error("$part"), "done"]


def listing_output() -> list[str]:
    return [f'echo {MARK}images; cat "$t/img"', f'echo {MARK}own; cat "$t/own"']


def ref_lines(refs: Sequence[str]) -> list[str]:
    """One `docker image inspect` per reference, at once (with several names one call's
    output would not say which of them were missing)."""
    q = shlex.quote
    return [f"call ref{i} docker image inspect --format {q(IMAGE_REF_FORMAT)} -- {q(ref)} &"
            for i, ref in enumerate(refs)]


def ref_checks(count: int) -> list[str]:
    """A reference that is not there is an answer; any other failure is the host's."""
    if not count:
        return []
    return [f"for part in {' '.join(f'ref{i}' for i in range(count))}; do",
            '  if [ "$(cat "$t/$part.rc" 2>/dev/null)" != 0 ] && '
            f'! grep -q {shlex.quote(NO_SUCH_IMAGE)} "$t/$part.err"; then',
            f'    echo {MARK}error; cat "$t/$part.err"; exit 0',
            "  fi",
            "done"]


def ref_output(count: int) -> list[str]:
    """The `refs` section: per asked reference its position, a tab, and its inspect line
    (nothing after the tab when it is not on the host)."""
    return [f"echo {MARK}refs",
            *(f'printf \'%s\\t%s\\n\' {i} "$(cat "$t/ref{i}")"' for i in range(count))]


def parse_image_listing(sections: dict[str, list[str]]) -> tuple[dict[str, str], frozenset[str]]:
    """The listing's sections -> ({repo:tag: image ID}, IDs of the images clusterdeploy built)."""
    return (parse_images(sections["images"]),
            frozenset(line.strip() for line in sections.get("own", []) if line.strip()))


def parse_image_refs(lines: list[str], refs: Sequence[str],
                     ) -> tuple[dict[str, str], frozenset[str]]:
    """The `refs` section -> ({each found reference and every tag of its image: image ID},
    IDs of the images among them that clusterdeploy built)."""
    images: dict[str, str] = {}
    own: set[str] = set()
    for line in lines:
        position, _, found = line.strip().partition("\t")
        image_id, _, rest = found.partition("\t")
        if not image_id or not position.isdigit() or int(position) >= len(refs):
            continue
        ref = refs[int(position)]
        built, _, tags = rest.partition("\t")
        for tag in json.loads(tags or "null") or ():
            images[str(tag)] = image_id
        images[ref] = image_id
        if built:
            own.add(image_id)
    return images, frozenset(own)


def listing_script() -> str:
    """Every image of the host, as the observation's `images` and `own` sections."""
    return "\n".join([
        *PREAMBLE, *listing_lines(), "wait", *listing_checks(), *listing_output(),
        f"echo {MARK}end"])


def parse_listing(text: str, host: str) -> tuple[dict[str, str], frozenset[str]]:
    """listing_script's output; DeployError naming the host when docker failed."""
    sections = read_sections(text)
    if "error" in sections:
        raise docker_unreachable(host, "\n".join(sections["error"]) or "docker failed")
    if "end" not in sections:
        raise DeployError(on_host(host, f"the image listing was cut short: {text[-300:]!r}"))
    return parse_image_listing(sections)


def parse_images(lines: list[str]) -> dict[str, str]:
    """`docker images --format IMAGES_FORMAT` output -> {repo:tag: image ID}."""
    images = {}
    for line in lines:
        ref, _, image_id = line.partition("\t")
        if image_id and "<none>" not in ref:
            images[ref] = image_id
    return images


def images_script() -> str:
    """The image IDs of an engine (where `ship` builds images for a remote host)."""
    return shlex.join(["docker", "images", "--no-trunc", "--format", IMAGES_FORMAT])
