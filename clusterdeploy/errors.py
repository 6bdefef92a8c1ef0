"""The error types of clusterdeploy: a user error is one line per problem, never a traceback.

Messages about a Docker host start with the host's name from the spec (`local` for the local
engine): `<host>: <what> (<fix>)`. `docker_unreachable` is the one wording for a host whose
engine does not answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


class ClusterDeployError(Exception):
    """Base of every error a person can act on; the CLI prints it and exits non-zero."""

    exit_code = 1


@dataclass(frozen=True, order=True)
class Problem:
    """One problem in a spec: `<file>: <path>: <what> (<fix>)`."""

    path: str
    message: str
    fix: str = ""
    file: str = ""

    def __str__(self) -> str:
        where = ": ".join(part for part in (self.file, self.path) if part)
        text = f"{where}: {self.message}" if where else self.message
        return f"{text} ({self.fix})" if self.fix else text


def _problem_order(problem: Problem) -> tuple[object, ...]:
    # Sort nodes[10] after nodes[9]: compare numeric indices as numbers.
    parts = re.split(r"(\d+)", problem.path)
    key = tuple((part.isdigit(), int(part) if part.isdigit() else part) for part in parts)
    return (problem.file, key, problem.message)


class SpecError(ClusterDeployError):
    """The spec is invalid; carries every problem at once, sorted by path."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(set(problems), key=_problem_order)
        super().__init__("\n".join(str(p) for p in self.problems))


class DeployError(ClusterDeployError):
    """Converging or operating the cluster failed on a host; the message names the host."""


def on_host(host: str, message: str) -> str:
    """The one host prefix of runtime messages."""
    return f"{host}: {message}"


def docker_unreachable(host: str, detail: str) -> DeployError:
    """The engine of `host` does not answer; `detail` is the last line of what was said."""
    last = (detail.strip().splitlines() or ["no answer"])[-1]
    return DeployError(on_host(host, f"cannot talk to Docker: {last}"))
