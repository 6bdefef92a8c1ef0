"""`load_spec`: the one place that turns a spec file into a Spec, or every problem at once.

read (YAML) -> schema (structure) -> build (conversion) -> checks (what a schema cannot say).
Nothing downstream re-reads or re-validates the file.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import Problem, SpecError
from .build import build_spec
from .checks import semantic_problems
from .model import Spec
from .read import SPEC_ENV, read_document
from .schema import schema_problems

DEFAULT_SPEC = "cluster.yml"


def spec_path(path: str | os.PathLike[str] | None = None) -> str:
    """The spec file to use: the argument, else $CLUSTER_SPEC, else cluster.yml."""
    return os.fspath(path) if path else os.environ.get(SPEC_ENV) or DEFAULT_SPEC


def _in_file(problems: list[Problem], display: str) -> SpecError:
    return SpecError([Problem(p.path, p.message, p.fix, display) for p in problems])


def load_spec(path: str | os.PathLike[str] | None = None) -> Spec:
    """Read, validate and expand a spec file; raise SpecError with every problem."""
    display = spec_path(path)
    document = read_document(display)
    problems = schema_problems(document)
    if problems:
        raise _in_file(problems, display)
    spec, problems = build_spec(Path(display).resolve(), display, document)
    problems += semantic_problems(spec)
    if problems:
        raise _in_file(problems, display)
    return spec
