"""`ps` is another name for `status`, with the same options."""

from __future__ import annotations

from clusterdeploy.cli import parser


def test_ps_is_status_with_the_same_options():
    ps, status = parser().parse_args(["ps", "--json"]), parser().parse_args(["status", "--json"])
    assert ps.func is status.func and vars(ps) | {"command": "status"} == vars(status)
