"""`clusterdeploy init`: scaffold a user's project (spec, entry points, templates, suite)."""

from .project import Options, Outcome, ProjectFile, UsageError, init_project

__all__ = ["Options", "Outcome", "ProjectFile", "UsageError", "init_project"]
