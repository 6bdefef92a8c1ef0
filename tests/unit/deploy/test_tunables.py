"""Yes/no tunables as pyinfra's --data and group_data give them."""

from __future__ import annotations

import pytest

from clusterdeploy.deploy.tunables import flag


@pytest.mark.parametrize("value", [True, 1, "true", "True", "yes", "1", "on"])
def test_yes(value: object) -> None:
    assert flag(value)


@pytest.mark.parametrize("value", [False, 0, "false", "no", "0", "", None, "off"])
def test_no(value: object) -> None:
    assert not flag(value)
