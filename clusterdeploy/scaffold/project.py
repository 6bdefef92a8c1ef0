"""`clusterdeploy init`: a user's project, written file by file, never over an existing one.

What it writes (paths relative to the project directory):
  cluster.yml                     the spec, commented (spec.py)
  Dockerfile                      a starter, when the project has none and no --image was given
  inventory.py deploy.py teardown.py   pyinfra's entry points (the package's own, package data)
  group_data/all.py               the tunables, with their defaults
  run_tests.sh                    deploy, suite, Ctrl+C: `clusterdeploy run`
  docker-test/templates/          the default templates (Cluster.config.j2, setup.sh.j2: the
                                  schema's default `files`), start.sh.j2 and check.sh.j2 (the suite)
  docker-test/cluster.schema.json the schema, for editors (the yaml-language-server line)
  docker-test/.gitignore, .dockerignore   keep collected logs out of git and build contexts
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..clusterspec import Spec, load_spec
from ..clusterspec.schema import schema_problems
from ..core.render import render_cluster
from ..errors import ClusterDeployError, Problem, SpecError
from ..packagedata import package_path, version
from .dockerfile import what_it_runs
from .spec import SCHEMA_COPY, TEMPLATES, Choices, spec_text

SPEC = "cluster.yml"
STARTER_PORT = "@PORT@"
STARTER_CMD = 'CMD ["busybox", "httpd", "-f", "-p", "@PORT@", "-h", "/srv/www"]'


class UsageError(ClusterDeployError):
    """Options that cannot make a project (exit 2, as argparse's own usage errors)."""

    exit_code = 2


@dataclass(frozen=True)
class ProjectFile:
    path: str  # relative to the project directory
    content: bytes
    mode: int = 0o644
    note: str = ""  # said when it is written


@dataclass
class Outcome:
    """What init did: files written and skipped (already there), notes, the valid spec."""

    directory: Path
    written: list[ProjectFile] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    spec: Spec | None = None  # the spec as every command will load it, when it is valid
    problems: SpecError | None = None  # why it is not (a file that was already there)


@dataclass(frozen=True)
class Options:
    """The command line's choices, before they are checked."""

    name: str
    nodes: int
    port: int
    publish: int
    command: str | None = None
    image: str | None = None
    dockerfile: str | None = None  # None: `Dockerfile`, written as a starter when missing
    subnet: str | None = None


def _package_file(*parts: str) -> bytes:
    return package_path(*parts).read_bytes()


def _starter(port: int, command: Sequence[str] | None) -> str:
    text = package_path("scaffold", "files", "Dockerfile").read_text()
    if command is not None:
        text = text.replace(STARTER_CMD, f"CMD {json.dumps(list(command))}")
    return text.replace(STARTER_PORT, str(port))


def _command(options: Options, directory: Path) -> tuple[tuple[str, ...], ProjectFile | None,
                                                        list[str]]:
    """The service's command, the starter Dockerfile to write (if any), and notes."""
    given = tuple(shlex.split(options.command)) if options.command else None
    if options.command is not None and not given:
        raise UsageError("clusterdeploy init: --command is empty (give the service's command)")
    if options.image is not None:
        if given is None:
            raise UsageError(f"clusterdeploy init: --image needs --command (the command each "
                             f"node runs in {options.image}, e.g. --command 'my-server --port "
                             f"{options.port}')")
        return given, None, []
    name = options.dockerfile or "Dockerfile"
    path = directory / name
    if not path.is_file():
        if options.dockerfile is not None:
            raise UsageError(f"clusterdeploy init: {path}: no such file (give the Dockerfile "
                             f"of your service, relative to {directory})")
        text = _starter(options.port, given)
        starter = ProjectFile(name, text.encode(), note="a starter: busybox's HTTP server; "
                                                        "replace it with your service")
        command = what_it_runs(text).command
        assert command is not None  # the starter has a CMD
        return command, starter, []
    runs = what_it_runs(path.read_text(errors="replace"))
    notes = []
    if runs.entrypoint:
        notes.append(f"{name} sets an ENTRYPOINT: Docker passes each node's command "
                     f"(/clusterdeploy/start.sh ...) to it as arguments; it must exec them, "
                     f"or drop start.sh from `command` in {SPEC}")
    if given is not None:
        return given, None, notes
    if runs.command is None:
        raise UsageError(f"clusterdeploy init: {name} has no CMD (give the command each node "
                         f"runs with --command)")
    return runs.command, None, [*notes, f"the nodes' command is {name}'s CMD: "
                                        f"{shlex.join(runs.command)}"]


def _templates() -> list[ProjectFile]:
    files = [ProjectFile(f"{TEMPLATES}/{name}", _package_file("templates", name))
             for name in ("Cluster.config.j2", "setup.sh.j2")]
    files += [ProjectFile(f"{TEMPLATES}/{name}", _package_file("scaffold", "files", name))
              for name in ("start.sh.j2", "check.sh.j2")]
    return files


def project_files(choices: Choices, starter: ProjectFile | None) -> list[ProjectFile]:
    """Every file of a new project, in the order they are listed."""
    files = [ProjectFile(SPEC, spec_text(choices, version()).encode())]
    if starter is not None:
        files.append(starter)
    files += [ProjectFile(name, _package_file("entry", name))
              for name in ("inventory.py", "deploy.py", "teardown.py")]
    files += [
        ProjectFile("group_data/all.py", _package_file("scaffold", "files", "group_data",
                                                       "all.py")),
        ProjectFile("run_tests.sh", _package_file("scaffold", "files", "run_tests.sh"), 0o755),
        *_templates(),
        ProjectFile(SCHEMA_COPY, _package_file("cluster.schema.json"),
                    note="the schema, for your editor"),
        ProjectFile("docker-test/.gitignore",
                    _package_file("scaffold", "files", "docker-test.gitignore")),
    ]
    if choices.image is None:
        files.append(ProjectFile(".dockerignore", _package_file("scaffold", "files",
                                                                "dockerignore")))
    return files


def choose(options: Options, directory: Path) -> tuple[Choices, ProjectFile | None, list[str]]:
    """The checked choices (UsageError or SpecError when they cannot make a valid spec), the
    starter Dockerfile to write, and notes."""
    command, starter, notes = _command(options, directory)
    choices = Choices(name=options.name, nodes=options.nodes, port=options.port,
                      publish=options.publish, command=command, image=options.image,
                      dockerfile=options.dockerfile or "Dockerfile", subnet=options.subnet)
    problems = schema_problems(yaml.safe_load(spec_text(choices, version())))
    if problems:
        raise SpecError([Problem(p.path, p.message, "choose another value with its option",
                                 f"{SPEC} (from the options)") for p in problems])
    return choices, starter, notes


def init_project(directory: Path, options: Options) -> Outcome:
    """Write the project's missing files, then load the spec as every command will."""
    directory = directory.resolve()
    outcome = Outcome(directory)
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"clusterdeploy init: {directory} is not a directory (give the "
                         f"project's directory)")
    if (directory / SPEC).exists():
        raise ClusterDeployError(f"{directory / SPEC}: already exists; nothing written (init "
                                 f"never overwrites a file: edit it, or init another directory)")
    choices, starter, outcome.notes = choose(options, directory)
    for file in project_files(choices, starter):
        target = directory / file.path
        if target.exists():
            outcome.skipped.append(file.path)
            continue
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(file.content)
            target.chmod(file.mode)
        except OSError as exc:
            written = ", ".join(f.path for f in outcome.written) or "nothing"
            raise ClusterDeployError(f"{target}: cannot write: {exc.strerror} (written so far: "
                                     f"{written})") from None
        outcome.written.append(file)
    if ".dockerignore" in outcome.skipped:
        outcome.notes.append("add the line `docker-test/logs/` to .dockerignore, so collected "
                             "logs stay out of the build context")
    try:
        outcome.spec = load_spec(directory / SPEC)
        render_cluster(outcome.spec)
    except SpecError as exc:
        outcome.spec, outcome.problems = None, exc
    return outcome
