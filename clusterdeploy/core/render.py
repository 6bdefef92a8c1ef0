"""Per-container files rendered from Jinja2 templates.

The context every template sees (documented in the README):
  cluster   name, network {name, subnet, gateway}
  node      this container: name, hostname, container_name, address, port (first service port),
            ports (service ports by name), index (1-based), role ("node" or "tester")
  replicas  every node, in spec order, each shaped like `node`
  vars      the spec's `vars`
Templates render in a sandbox rooted at the spec's folder (core/sandbox.py). A template that
fails (syntax error, undefined variable, an error of its own code, a bound reached) is a
SpecError naming the template, its line and the first container that hits it, raised before
anything changes. The whole cluster is rendered once, by `render_cluster`, and handed on as a
value.
"""

from __future__ import annotations

import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from ..clusterspec import FileTemplate, Member, Spec
from ..errors import Problem, SpecError
from .sandbox import sandbox

TEMPLATE_FIX = "fix the template or the variable it uses"


@dataclass(frozen=True)
class RenderedFile:
    path: str
    content: bytes
    mode: int


Rendered = Mapping[str, tuple[RenderedFile, ...]]  # container name -> its files


def member_context(member: Member) -> dict[str, Any]:
    """What a node (or the tester) looks like to templates."""
    settings = member.settings
    return {
        "name": member.name,
        "hostname": member.hostname,
        "container_name": member.container_name,
        "address": member.address,
        "port": settings.primary_port,
        "ports": settings.service_ports,
        "index": member.index,
        "role": member.role,
    }


def render_context(spec: Spec, member: Member,
                   replicas: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "cluster": {
            "name": spec.name,
            "network": {"name": spec.network.name, "subnet": spec.network.subnet,
                        "gateway": spec.network.gateway},
        },
        "node": member_context(member),
        "replicas": replicas if replicas is not None else
        [member_context(n) for n in spec.nodes],
        "vars": spec.variables,
    }


def _where(spec: Spec, member: Member, i: int) -> str:
    owner = member.path
    if member.settings.files == spec.defaults.files:
        owner = "defaults"  # the file list is inherited: point at where it is written
    return f"{owner}.files[{i}].template"


def _template_line(exc: BaseException, path: Path) -> str:
    lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__) if f.filename == str(path)]
    return f" line {lines[-1]}" if lines else ""


def _show(spec: Spec, path: Path) -> str:
    try:
        return str(path.relative_to(spec.base_dir))
    except ValueError:
        return str(path)


def _render(spec: Spec, template: FileTemplate, context: dict[str, Any], who: str) -> bytes:
    """One file, or a one-problem SpecError (its path is filled in by the caller)."""
    shown = _show(spec, template.template)
    try:
        name = template.template.relative_to(spec.base_dir).as_posix()
        return sandbox(spec.base_dir).render(name, context).encode()
    except jinja2.TemplateSyntaxError as exc:
        line = f" line {exc.lineno}" if exc.lineno else ""
        message = f"{shown}{line}: syntax error: {exc.message}"
    except jinja2.UndefinedError as exc:
        message = f"{shown}{_template_line(exc, template.template)}: {exc.message}"
    except jinja2.TemplateNotFound as exc:
        message = f"{shown}{_template_line(exc, template.template)}: no template {exc.name}"
    except jinja2.TemplateError as exc:
        message = f"{shown}{_template_line(exc, template.template)}: {exc}"
    except ValueError:  # not inside the spec's folder (the spec check says so first)
        message = f"{shown}: outside the spec's folder"
    except (Exception, RecursionError) as exc:  # the template's own code failed
        message = f"{shown}{_template_line(exc, template.template)}: {type(exc).__name__}: " \
                  f"{str(exc).splitlines()[0] if str(exc) else 'failed'}"
    raise SpecError([Problem("", f"{message}, rendering {who}", TEMPLATE_FIX)])


def render_member(spec: Spec, member: Member,
                  replicas: list[dict[str, Any]] | None = None) -> tuple[RenderedFile, ...]:
    """Every file of one container, or SpecError naming template, line and container."""
    context = render_context(spec, member, replicas)
    who = member.name if member.is_node else "the tester"
    files, problems = [], []
    for i, template in enumerate(member.settings.files):
        try:
            files.append(RenderedFile(template.path, _render(spec, template, context, who),
                                      template.mode))
        except SpecError as exc:
            problems += [Problem(_where(spec, member, i), p.message, p.fix, spec.display)
                         for p in exc.problems]
    if problems:
        raise SpecError(problems)
    return tuple(files)


def render_cluster(spec: Spec) -> dict[str, tuple[RenderedFile, ...]]:
    """Every container's files by container name; SpecError with each template problem once
    (for the first container that hits it), before any host is touched."""
    replicas = [member_context(n) for n in spec.nodes]
    rendered: dict[str, tuple[RenderedFile, ...]] = {}
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    for member in spec.members:
        try:
            rendered[member.container_name] = render_member(spec, member, replicas)
        except SpecError as exc:
            for p in exc.problems:
                key = (p.path, p.message.rsplit(", rendering ", 1)[0])
                if key not in seen:
                    seen.add(key)
                    problems.append(p)
    try:
        render_bootstrap(spec)
    except SpecError as exc:
        problems += exc.problems
    if problems:
        raise SpecError(problems)
    return rendered


def render_bootstrap(spec: Spec) -> tuple[str, ...] | None:
    """The bootstrap command with each argument rendered for the container it runs in."""
    bootstrap = spec.bootstrap
    member = spec.member(bootstrap.container) if bootstrap else None
    if bootstrap is None or member is None:
        return None
    context = render_context(spec, member)
    args = []
    for i, arg in enumerate(bootstrap.command):
        try:
            args.append(sandbox(spec.base_dir).render_string(arg, context))
        except (Exception, RecursionError) as exc:  # the template's own code failed
            text = exc.message if isinstance(exc, jinja2.TemplateError) and exc.message \
                else f"{type(exc).__name__}: {exc}"
            raise SpecError([Problem(f"bootstrap.command[{i}]", text, TEMPLATE_FIX,
                                     spec.display)]) from None
    return tuple(args)
