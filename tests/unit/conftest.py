"""Fixtures of the unit tests. Nothing here talks to Docker.

`project` is a copy of tests/fixtures/project (a miniature of the repository: cluster.yml,
Dockerfiles, .dockerignore, templates, cmd/) in tmp_path, so a test may edit files in it.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from unitlib import PROJECT, FakeDocker, spec_errors, write_spec

from clusterdeploy.clusterspec import Spec, load_spec
from clusterdeploy.errors import SpecError


@pytest.fixture(autouse=True, scope="session")
def _private_spec_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The specs the unit tests accept are remembered in a folder of this run, not in the
    user's cache (clusterspec/validcache.py)."""
    import os

    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))


@pytest.fixture
def load(tmp_path: Path) -> Callable[..., Spec]:
    """load(doc) -> Spec, the doc written to tmp_path/cluster.yml."""
    return lambda doc, name="cluster.yml": load_spec(write_spec(tmp_path, doc, name))


@pytest.fixture
def errors(tmp_path: Path) -> Callable[..., SpecError]:
    """errors(doc) -> the SpecError loading it raises."""
    return lambda doc, name="cluster.yml": spec_errors(write_spec(tmp_path, doc, name))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    target = tmp_path / "project"
    shutil.copytree(PROJECT, target)
    return target


@pytest.fixture
def fake_docker(tmp_path: Path) -> FakeDocker:
    """A fake `docker` CLI (tests/unit/fakedocker.py) for running generated scripts."""
    return FakeDocker(tmp_path / "fake-docker")
