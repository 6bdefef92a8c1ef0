"""Per-node files rendered from Jinja2 templates.

The context every template sees (documented in the README):
  cluster   name, network {name, subnet, gateway}
  node      this container: name, hostname, container_name, address, port (first service port),
            ports (service ports by name), index (1-based), role ("node" or "tester")
  replicas  every node, in spec order, each shaped like `node`
  vars      the spec's `vars`
A template that fails (syntax error, undefined variable) is a SpecError naming the template,
its line and the node, raised before anything changes.
"""

from __future__ import annotations

import json
import shlex
import traceback
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from .errors import Problem, SpecError
from .spec import FileTemplate, Node, Spec, Tester


@dataclass(frozen=True)
class RenderedFile:
    path: str
    content: bytes
    mode: int


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader("/"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters["shquote"] = lambda value: shlex.quote(str(value))
    return env


def member_context(spec: Spec, member: Node | Tester) -> dict[str, Any]:
    """What a node (or the tester) looks like to templates."""
    settings = member.settings
    return {
        "name": member.name if isinstance(member, Node) else "tester",
        "hostname": member.hostname,
        "container_name": member.container_name,
        "address": member.address,
        "port": settings.primary_port,
        "ports": dict(settings.service_ports),
        "index": member.index + 1 if isinstance(member, Node) else 0,
        "role": "node" if isinstance(member, Node) else "tester",
    }


def render_context(spec: Spec, member: Node | Tester,
                   replicas: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "cluster": {
            "name": spec.name,
            "network": {"name": spec.network.name, "subnet": spec.network.subnet,
                        "gateway": spec.network.gateway},
        },
        "node": member_context(spec, member),
        "replicas": replicas if replicas is not None else
        [member_context(spec, n) for n in spec.nodes],
        "vars": spec.variables,
    }


def render_member(spec: Spec, member: Node | Tester,
                  replicas: list[dict[str, Any]] | None = None) -> tuple[RenderedFile, ...]:
    """Every file of one container, or SpecError naming template, line and node."""
    context = render_context(spec, member, replicas)
    files = []
    for i, template in enumerate(member.settings.files):
        files.append(RenderedFile(template.path, _render(spec, member, i, template, context),
                                  template.mode))
    return tuple(files)


def _render(spec: Spec, member: Node | Tester, i: int, template: FileTemplate,
            context: dict[str, Any]) -> bytes:
    name = str(template.template).lstrip("/")
    who = member.name if isinstance(member, Node) else "the tester"
    owner = member.path if isinstance(member, Node) else "tester"
    if member.settings.files == spec.defaults.files:
        owner = "defaults"  # the file list is inherited: point at where it is written
    where = f"{owner}.files[{i}].template"
    try:
        return _environment().get_template(name).render(context).encode()
    except jinja2.TemplateSyntaxError as exc:
        line = f" line {exc.lineno}" if exc.lineno else ""
        message = (f"{_show(spec, template.template)}{line}: syntax error: {exc.message}, "
                   f"rendering {who}")
    except jinja2.UndefinedError as exc:
        line = _template_line(exc, template.template)
        message = f"{_show(spec, template.template)}{line}: {exc.message}, rendering {who}"
    except jinja2.TemplateError as exc:
        message = f"{_show(spec, template.template)}: {exc}, rendering {who}"
    raise SpecError([Problem(where, message, "fix the template or the variable it uses",
                             spec.display)])


def _template_line(exc: BaseException, path: Path) -> str:
    lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__) if f.filename == str(path)]
    return f" line {lines[-1]}" if lines else ""


def _show(spec: Spec, path: Path) -> str:
    try:
        return str(path.relative_to(spec.base_dir))
    except ValueError:
        return str(path)


_last: tuple[str, dict[str, tuple[RenderedFile, ...]]] | None = None


def _spec_key(spec: Spec) -> str:
    # By content, not identity: pyinfra hands deploy.py a copy of the inventory's Spec.
    templates = sorted({str(f.template) for n in spec.nodes for f in n.settings.files})
    stamps = [(t, Path(t).stat().st_mtime_ns) for t in templates]
    return json.dumps([str(spec.file), spec.raw, stamps], sort_keys=True, default=str)


def render_all(spec: Spec) -> dict[str, tuple[RenderedFile, ...]]:
    """Every container's files by container name, the replica list built once. Validation and
    the desired state both ask for them: the same spec is rendered only once."""
    global _last
    key = _spec_key(spec)
    if _last is not None and _last[0] == key:
        return _last[1]
    replicas = [member_context(spec, n) for n in spec.nodes]
    members: list[Node | Tester] = [*spec.nodes, *([spec.tester] if spec.tester.enabled else [])]
    rendered = {m.container_name: render_member(spec, m, replicas) for m in members}
    _last = (key, rendered)
    return rendered
