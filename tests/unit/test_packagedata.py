"""Everything the code reads at run time ships in the package, and the repository's own copies
(the published schema, docker-test/templates, the entry scripts, group_data) are the same files."""

from __future__ import annotations

import fnmatch
import runpy
import tomllib

import pytest
from unitlib import REPO

from clusterdeploy.deploy import tunables
from clusterdeploy.packagedata import package_path

PACKAGE = REPO / "clusterdeploy"

# The repository's file -> the packaged one it must equal, byte for byte.
SAME_FILES = {
    "cluster.schema.json": "cluster.schema.json",
    "docker-test/templates/Cluster.config.j2": "templates/Cluster.config.j2",
    "docker-test/templates/setup.sh.j2": "templates/setup.sh.j2",
    "inventory.py": "entry/inventory.py",
    "deploy.py": "entry/deploy.py",
    "teardown.py": "entry/teardown.py",
    "group_data/all.py": "scaffold/files/group_data/all.py",
}


@pytest.mark.parametrize("repository_file", sorted(SAME_FILES))
def test_the_repository_copy_is_the_packaged_file(repository_file):
    packaged = package_path(*SAME_FILES[repository_file].split("/"))
    assert (REPO / repository_file).read_bytes() == packaged.read_bytes(), (
        f"{repository_file} differs from clusterdeploy/{SAME_FILES[repository_file]}: "
        f"change both")


def test_every_template_the_schema_defaults_to_ships_in_the_package():
    from clusterdeploy.clusterspec.schema import definition
    defaults = definition("containerSettings")["properties"]["files"]["default"]
    for entry in defaults:
        assert entry["template"].startswith("docker-test/templates/")
        name = entry["template"].removeprefix("docker-test/templates/")
        assert package_path("templates", name).is_file()


def test_group_data_names_the_defaults_of_the_tunables():
    values = runpy.run_path(str(REPO / "group_data" / "all.py"))
    assert values["state_dir"] == tunables.DEFAULT_STATE_DIR
    assert values["parallelism"] == tunables.DEFAULT_PARALLELISM
    assert values["stream_builds"] is False


def _package_data_globs() -> list[str]:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    return pyproject["tool"]["setuptools"]["package-data"]["clusterdeploy"]


def test_every_data_file_of_the_package_is_declared_package_data():
    """A file missing from `package-data` is missing from the wheel: it works from the checkout
    and fails once installed."""
    globs = _package_data_globs()
    data = [path.relative_to(PACKAGE).as_posix() for path in PACKAGE.rglob("*")
            if path.is_file() and "__pycache__" not in path.parts]
    data = [path for path in data
            if not (path.endswith(".py") and (PACKAGE / path).parent.joinpath(
                "__init__.py").is_file())]  # modules of regular packages ship anyway
    undeclared = [path for path in data if not any(fnmatch.fnmatch(path, g) for g in globs)]
    assert undeclared == []


def test_every_package_data_glob_matches_a_file():
    for glob in _package_data_globs():
        assert list(PACKAGE.glob(glob)), f"package-data {glob!r} matches nothing"

