"""The error types of clusterdeploy: a user error is one line per problem, never a traceback."""

from __future__ import annotations

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


class SpecError(ClusterDeployError):
    """The spec is invalid; carries every problem at once, sorted by path."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(set(problems), key=_problem_order)
        super().__init__("\n".join(str(p) for p in self.problems))


def _problem_order(problem: Problem) -> tuple:
    # Sort nodes[10] after nodes[9]: compare numeric indices as numbers.
    import re

    parts = re.split(r"(\d+)", problem.path)
    key = tuple(int(p) if p.isdigit() else p for p in parts)
    return (problem.file, tuple((isinstance(k, int), k) for k in key), problem.message)


class BuildError(ClusterDeployError):
    """An image build failed; the message names the image, the failing step and the output tail."""


class DeployError(ClusterDeployError):
    """Converging the cluster failed on a host; the message names the host and the node."""
