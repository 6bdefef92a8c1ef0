"""The config and image hashes are a contract with every running cluster: a changed hash
recreates (or rebuilds) it. These tests make an accidental change fail and a deliberate one a
visible edit."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from unitlib import PROJECT, desired_for

from clusterdeploy.clusterspec import HealthCheck, PortMapping, load_spec
from clusterdeploy.core.desired import HASH_KEYS, NOT_HASHED, DesiredContainer
from clusterdeploy.core.hashing import canonical_hash

# Pinned for tests/fixtures/project/cluster.yml with unitlib.BASE_IDS and STATE_DIR. If one of
# these changes, every user's containers (or images) change identity on upgrade: say so in the
# CHANGELOG, or find what changed the hash input by accident.
PINNED_CONFIG_HASH = {
    "ci_node1": "69e4009034c2c433f247e4d6e51506a66335b4906c5fa0763dd773645e4b2607",
    "ci_tester": "9d364daa56466646b778a76f5ed3188675c14d7e346189abef76c6b4a449edb5",
}
PINNED_IMAGE_HASH = {
    "builder": "cf98e6efa4714605f126aa055bf36dbfb1df0946f0fb836b3d4fae24d295c22e",
    "node": "e89524f73b50f25623bfd3be2c4aa49a3f3ed633b09281bb68e6bb6cad509db9",
}


@pytest.fixture(scope="module")
def fixture_desired():
    return desired_for(load_spec(PROJECT / "cluster.yml"))


def test_config_hashes_are_pinned(fixture_desired):
    assert {name: fixture_desired.container(name).config_hash
            for name in PINNED_CONFIG_HASH} == PINNED_CONFIG_HASH


def test_image_hashes_are_pinned(fixture_desired):
    assert {i.key: i.hash for i in fixture_desired.images} == PINNED_IMAGE_HASH


def _different(value: Any) -> Any:
    """A value of the same kind that differs."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 1
    if isinstance(value, str):
        return value + "x"
    if isinstance(value, dict):
        return {**value, "CHANGED": "1"}
    if isinstance(value, HealthCheck):
        return dataclasses.replace(value, retries=value.retries + 1)
    if isinstance(value, tuple):
        extra = PortMapping(1234) if value and isinstance(value[0], PortMapping) else "extra"
        return (*value, extra) if not value or not dataclasses.is_dataclass(value[0]) or \
            isinstance(value[0], PortMapping) else \
            (dataclasses.replace(value[0], content=value[0].content + b"x"), *value[1:])
    if value is None:
        return HealthCheck(("CMD", "true"), 1.0, 1.0, 1, 0.0)
    raise AssertionError(f"no different value for {value!r}")


FIELDS = {f.name: f for f in dataclasses.fields(DesiredContainer)}


@pytest.mark.parametrize("field", list(FIELDS))
def test_every_field_is_hashed_or_excluded_with_a_reason(fixture_desired, field):
    container = fixture_desired.container("ci_node1")
    value = getattr(container, field)
    optional = FIELDS[field].default is not dataclasses.MISSING
    changed = dataclasses.replace(container, **{
        field: ("set:/x",) if optional and not value else _different(value)})
    if field in NOT_HASHED:
        assert NOT_HASHED[field], "say why it is left out"
        assert changed.hash_input() == container.hash_input()
    else:
        assert canonical_hash(changed.hash_input()) != container.config_hash, (
            f"{field} is neither hashed nor in NOT_HASHED")
        assert HASH_KEYS.get(field, field) in changed.hash_input()
        if optional:  # unset, it is not in the hash: adding it changed no existing hash
            assert HASH_KEYS.get(field, field) not in container.hash_input()


def test_an_option_added_later_changes_no_existing_hash(fixture_desired):
    @dataclasses.dataclass(frozen=True)
    class WithNewOption(DesiredContainer):
        working_dir: str | None = None

    container = fixture_desired.container("ci_node1")
    extended = WithNewOption(**{f.name: getattr(container, f.name)
                                for f in dataclasses.fields(DesiredContainer)})
    assert canonical_hash(extended.hash_input()) == container.config_hash
    set_ = dataclasses.replace(extended, working_dir="/srv")
    assert set_.hash_input()["working_dir"] == "/srv"
