"""Image identity by content: rebuild exactly when what goes into an image changes.

An image's hash covers its Dockerfile, every build-context file Docker would send (after
`.dockerignore`), its build args, the Go sanitizer flags, the hashes of the images it requires
and the IDs of the external images it starts FROM. pyinfra's own docker.build checks only
whether a tag exists, so a changed source file was never rebuilt.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..clusterspec import GoBuild, ImageDef, Spec
from ..errors import Problem, SpecError
from .dockerignore import context_files
from .hashing import canonical_hash

HASH_TAG_LENGTH = 16
MISSING = "missing"


@dataclass(frozen=True)
class DesiredImage:
    key: str
    tag: str
    hash: str
    dockerfile: Path
    context: Path
    build_args: dict[str, str]
    requires: tuple[str, ...]
    bases: tuple[str, ...]  # external images it is built FROM
    network: str = "default"  # the network of its RUN steps; not part of what it is

    @property
    def ref(self) -> str:
        """The immutable reference `<tag>:<hash prefix>`."""
        return f"{self.tag}:{self.hash[:HASH_TAG_LENGTH]}"

    @property
    def latest(self) -> str:
        return f"{self.tag}:latest"


def go_build_args(build: GoBuild) -> dict[str, str]:
    """Build args that carry the Go programs and sanitizer flags into the Dockerfile."""
    sanitizers = set(build.sanitizers)
    return {
        "GO_PROGRAMS": " ".join(f"{package}={output}" for package, output in build.programs),
        "GO_BUILD_FLAGS": " ".join(build.flags),
        "CGO_ENABLED": "1" if sanitizers else "0",
        "CC": "clang" if "msan" in sanitizers else "gcc",
    }


def required_arg(key: str) -> str:
    """The build arg that names a required image: `builder` -> BUILDER_IMAGE."""
    return re.sub(r"[^A-Za-z0-9]", "_", key).upper() + "_IMAGE"


_ARG = re.compile(r"^\s*ARG\s+([A-Za-z_][A-Za-z0-9_]*)(?:=(\S*))?", re.IGNORECASE | re.MULTILINE)
_FROM = re.compile(r"^\s*FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?",
                   re.IGNORECASE | re.MULTILINE)


def external_bases(dockerfile_text: str, args: Mapping[str, str], internal: set[str]) -> list[str]:
    """The images a Dockerfile starts FROM that are neither its own stages nor `internal` args."""
    # Only the ARGs before the first FROM are in scope for FROM lines.
    first_from = _FROM.search(dockerfile_text)
    preamble = dockerfile_text[: first_from.start()] if first_from else dockerfile_text
    defaults: dict[str, str] = {}
    for match in _ARG.finditer(preamble):
        defaults.setdefault(match.group(1), (match.group(2) or "").strip("\"'"))
    values = {**defaults, **args}
    stages: set[str] = set()
    bases = []
    for match in _FROM.finditer(dockerfile_text):
        ref, alias = match.group(1), match.group(2)
        names = re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", ref)
        if not any(n in internal for n in names):
            resolved = re.sub(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?",
                              lambda m: values.get(m.group(1), ""), ref)
            if resolved.lower() not in stages and resolved != "scratch" and resolved not in bases:
                bases.append(resolved)
        if alias:
            stages.add(alias.lower())
    return bases


def normalize_ref(ref: str) -> str:
    """`debian` -> `debian:latest`, so references compare equal to `docker images` output."""
    last = ref.rsplit("/", 1)[-1]
    return ref if ":" in last or "@" in last else f"{ref}:latest"


def _instructions(dockerfile_text: str) -> list[str]:
    """Logical lines: continuations joined, comments and blank lines dropped."""
    logical, current = [], ""
    for line in dockerfile_text.splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        logical.append(current + stripped)
        current = ""
    if current:
        logical.append(current)
    return logical


def copy_sources(dockerfile_text: str) -> list[str] | None:
    """The context paths COPY/ADD read, or None when they cannot be known statically
    (variables in a source, or a RUN bind mount of the context)."""
    sources: list[str] = []
    for line in _instructions(dockerfile_text):
        word, _, rest = line.partition(" ")
        word = word.upper()
        if word == "RUN" and "--mount=" in rest and "type=bind" in rest and "from=" not in rest:
            return None
        if word not in ("COPY", "ADD"):
            continue
        args = json.loads(rest) if rest.lstrip().startswith("[") else rest.split()
        flags = [a for a in args if a.startswith("--")]
        if any(f.startswith("--from=") for f in flags):
            continue
        paths = [a for a in args if not a.startswith("--")][:-1]
        for source in paths:
            if "://" in source:
                continue
            if "$" in source:
                return None
            sources.append(source)
    return sources


def _uses(rel: str, source: str) -> bool:
    source = source.strip().lstrip("/")
    source = source[2:] if source.startswith("./") else source
    source = source.rstrip("/")
    if source in ("", "."):
        return True
    if rel == source or rel.startswith(source + "/"):
        return True
    parts = rel.split("/")
    return any(fnmatch.fnmatchcase("/".join(parts[:i]), source) for i in range(1, len(parts) + 1))


def context_digest(context: Path, sources: list[str] | None = None) -> str:
    """sha256 over the context files a build uses (all of them when `sources` is None):
    path, executable bit and content of each, after `.dockerignore`. A symlink counts as
    where it points (Docker sends the link, not its target); anything but a regular file or
    a symlink (a FIFO, a device) is a ValueError: Docker cannot send it, and reading it could
    block forever."""
    digest = hashlib.sha256()
    for rel in context_files(context):
        if sources is not None and not any(_uses(rel, s) for s in sources):
            continue
        path = context / rel
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode):
            digest.update(f"{rel}\0link\0{os.readlink(path)}\0".encode())
            continue
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(f"{rel} in the build context is not a regular file "
                             f"(add it to .dockerignore)")
        executable = info.st_mode & 0o111 != 0
        digest.update(f"{rel}\0{int(executable)}\0".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def image_order(images: Mapping[str, ImageDef]) -> list[str]:
    """Keys in build order: every image after the images it requires."""
    ordered: list[str] = []

    def visit(key: str) -> None:
        if key in ordered:
            return
        for required in images[key].requires:
            visit(required)
        ordered.append(key)

    for key in images:
        visit(key)
    return ordered


def _problem(spec: Spec, key: str, field: str, exc: Exception) -> SpecError:
    text = f"{exc.strerror}: {exc.filename}" if isinstance(exc, OSError) and exc.strerror \
        else str(exc)
    return SpecError([Problem(f"images.{key}.{field}", text,
                              "fix it, or leave it out of the build context", spec.display)])


def _dockerfile(spec: Spec, key: str) -> str:
    try:
        return spec.images[key].dockerfile.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _problem(spec, key, "dockerfile", ValueError(
            f"{spec.images[key].dockerfile} is not UTF-8 (byte {exc.start})")) from None
    except OSError as exc:
        raise _problem(spec, key, "dockerfile", exc) from None


def _declared_args(spec: Spec, key: str) -> dict[str, str]:
    """An image's build args as the spec gives them (with the Go build's for the build
    image), before the references of the images it requires."""
    args = dict(spec.images[key].args)
    if key == spec.build.image and spec.build.programs:
        args.update(go_build_args(spec.build))
    return args


def _bases(spec: Spec, key: str, dockerfile_text: str, args: Mapping[str, str],
           ) -> tuple[str, ...]:
    """The external images an image starts FROM, normalized (ValueError from the Dockerfile)."""
    internal = {required_arg(r) for r in spec.images[key].requires}
    return tuple(normalize_ref(r) for r in external_bases(dockerfile_text, args, internal))


def desired_images(spec: Spec, base_ids: Mapping[str, str]) -> list[DesiredImage]:
    """The images to have on a host, in build order, each with its content hash; SpecError
    when a Dockerfile or a build context cannot be read as Docker would read it."""
    built: dict[str, DesiredImage] = {}
    digests: dict[tuple[Path, tuple[str, ...] | None], str] = {}
    for key in image_order(spec.images):
        image = spec.images[key]
        args = _declared_args(spec, key)
        for required in image.requires:
            args[required_arg(required)] = built[required].ref
        dockerfile_text = _dockerfile(spec, key)
        try:
            bases = _bases(spec, key, dockerfile_text, args)
            sources = copy_sources(dockerfile_text)
        except ValueError as exc:
            raise _problem(spec, key, "dockerfile", exc) from None
        key_ = (image.context, None if sources is None else tuple(sources))
        if key_ not in digests:
            try:
                digests[key_] = context_digest(image.context, sources)
            except (ValueError, OSError) as exc:
                raise _problem(spec, key, "context", exc) from None
        image_hash = canonical_hash({
            "dockerfile": dockerfile_text,
            "context": digests[key_],
            "args": args,
            "requires": {r: built[r].hash for r in image.requires},
            "bases": {ref: base_ids.get(ref, MISSING) for ref in bases},
        })
        built[key] = DesiredImage(key, image.tag, image_hash, image.dockerfile, image.context,
                                  args, image.requires, bases, image.network)
    return list(built.values())


def refs_to_observe(spec: Spec) -> tuple[str, ...]:
    """The image references a deploy's plan looks up on a host, all known before any hash:
    each built image's external bases and its `:latest` tag, and the images the containers
    name that clusterdeploy does not build. The content-addressed `<tag>:<hash>` refs, which
    depend on the bases' IDs, are found among the tags of the `:latest` images (where a
    deploy left them); a Dockerfile that cannot be read is reported by desired_images."""
    refs: dict[str, None] = {}
    built_names = set()
    for key, image in spec.images.items():
        built_names.update({key, image.tag, f"{image.tag}:latest"})
        refs[f"{image.tag}:latest"] = None
        try:
            refs.update(dict.fromkeys(
                _bases(spec, key, _dockerfile(spec, key), _declared_args(spec, key))))
        except (SpecError, ValueError):
            continue
    for member in spec.members:
        if member.settings.image not in built_names:
            refs[normalize_ref(member.settings.image)] = None
    return tuple(refs)
