"""The files the package ships and reads at run time, found wherever it is installed.

- `cluster.schema.json`: the spec's schema (the repository's top-level copy is the published one);
- `templates/`: the default per-node templates (the schema's default `files`);
- `entry/`: pyinfra's entry scripts (`inventory.py`, `deploy.py`, `teardown.py`), run when the
  working directory has none of its own;
- `scaffold/files/`: what `clusterdeploy init` writes besides those;
- `report/template.html`: the page every run folder's report.html is made from;
- `faults/helper/Dockerfile`: the fault helper image (faults/image.py).

pip installs a wheel as plain files, so each is a real path that pyinfra can be given.
"""

from __future__ import annotations

from importlib import metadata, resources
from pathlib import Path

PACKAGE = "clusterdeploy"


def package_path(*parts: str) -> Path:
    """The path of a file or folder shipped in the package."""
    return Path(str(resources.files(PACKAGE).joinpath(*parts)))


def version() -> str:
    """The installed package's version (`clusterdeploy --version`)."""
    try:
        return metadata.version(PACKAGE)
    except metadata.PackageNotFoundError:  # a checkout on sys.path, never installed
        return "unknown (not installed)"
