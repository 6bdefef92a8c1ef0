"""The Jinja2 environment templates render in: spec-supplied code that runs at `validate`.

- Sandboxed: no attribute of Python's internals (`__globals__`, `__subclasses__`, ...), so a
  template cannot reach `os` or open files.
- Rooted at the spec's folder: templates and what they include are regular files inside it,
  symlinks resolved first, at most MAX_TEMPLATE_BYTES each.
- Bounded: a render stops after RENDER_SECONDS (checked at every call, attribute and
  arithmetic step), at MAX_OUTPUT_BYTES of output, and on sequences multiplied or numbers
  raised beyond what a config file needs.
"""

from __future__ import annotations

import os
import shlex
import stat
import time
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from jinja2.exceptions import SecurityError, TemplateNotFound
from jinja2.sandbox import SandboxedEnvironment

MAX_TEMPLATE_BYTES = 1 << 20
MAX_OUTPUT_BYTES = 4 << 20
MAX_SEQUENCE = 1 << 20
MAX_EXPONENT = 1000
RENDER_SECONDS = 10.0


class SpecFolderLoader(jinja2.BaseLoader):
    """Templates by path relative to one folder, never outside it."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def get_source(self, environment: jinja2.Environment,
                   template: str) -> tuple[str, str, Callable[[], bool]]:
        path = (self.root / template).resolve()
        if not path.is_relative_to(self.root):
            raise TemplateNotFound(f"{template} (outside the spec's folder {self.root})")
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
        except OSError:
            raise TemplateNotFound(template) from None
        with os.fdopen(fd, "rb") as file:
            info = os.fstat(file.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise TemplateNotFound(f"{template} (not a regular file)")
            data = file.read(MAX_TEMPLATE_BYTES + 1)
        if len(data) > MAX_TEMPLATE_BYTES:
            raise jinja2.TemplateError(f"{template} is larger than "
                                       f"{MAX_TEMPLATE_BYTES // 1024} KiB")
        try:
            source = data.decode("utf-8")
        except UnicodeDecodeError:
            raise jinja2.TemplateError(f"{template} is not UTF-8") from None
        mtime = info.st_mtime_ns
        return source, str(path), lambda: path.exists() and path.stat().st_mtime_ns == mtime


class BoundedSandbox(SandboxedEnvironment):
    """A sandbox that also bounds time and the size of what arithmetic makes."""

    intercepted_binops = frozenset({"*", "**", "+"})

    def __init__(self, root: Path) -> None:
        super().__init__(loader=SpecFolderLoader(root), undefined=jinja2.StrictUndefined,
                         keep_trailing_newline=True, autoescape=False)
        self.filters["shquote"] = lambda value: shlex.quote(str(value))
        self.deadline = float("inf")

    def tick(self) -> None:
        if time.monotonic() > self.deadline:
            raise SecurityError(f"rendering took longer than {RENDER_SECONDS:.0f} s")

    def call(self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        self.tick()
        return super().call(__context, __obj, *args, **kwargs)

    def getattr(self, obj: Any, attribute: str) -> Any:
        self.tick()
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        self.tick()
        return super().getitem(obj, argument)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        self.tick()
        if operator == "**" and isinstance(right, int | float) and abs(right) > MAX_EXPONENT:
            raise SecurityError(f"exponent {right} is too large")
        if operator == "*":
            for sequence, count in ((left, right), (right, left)):
                if isinstance(sequence, str | list | tuple) and isinstance(count, int) and \
                        len(sequence) * count > MAX_SEQUENCE:
                    raise SecurityError("the result of * would be too long")
        if operator == "+" and isinstance(left, str | list | tuple) and \
                isinstance(right, str | list | tuple) and len(left) + len(right) > MAX_SEQUENCE:
            raise SecurityError("the result of + would be too long")
        return super().call_binop(context, operator, left, right)

    def render(self, name: str, context: dict[str, Any]) -> str:
        """Render one template within the time and output bounds."""
        return self._bounded(self.get_template(name), context)

    def render_string(self, source: str, context: dict[str, Any]) -> str:
        """Render a template given as text (an argument of a command), within the bounds."""
        return self._bounded(self.from_string(source), context)

    def _bounded(self, template: jinja2.Template, context: dict[str, Any]) -> str:
        self.deadline = time.monotonic() + RENDER_SECONDS
        try:
            parts, size = [], 0
            for chunk in template.generate(context):
                size += len(chunk)
                if size > MAX_OUTPUT_BYTES:
                    raise SecurityError(f"output is larger than {MAX_OUTPUT_BYTES >> 20} MiB")
                self.tick()
                parts.append(chunk)
            return "".join(parts)
        finally:
            self.deadline = float("inf")


@cache
def sandbox(root: Path) -> BoundedSandbox:
    """The environment of templates in `root` (one per spec folder, its cache kept)."""
    return BoundedSandbox(root)
