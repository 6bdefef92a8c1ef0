"""The Engine's pure helpers."""

from __future__ import annotations

from types import SimpleNamespace

from clusterdeploy.docker.engine import container_name


def test_a_container_is_named_from_a_full_inspect_or_a_sparse_listing():
    full = SimpleNamespace(name="ci_node1", attrs={"Name": "/ci_node1"})
    sparse = SimpleNamespace(name=None, attrs={"Names": ["/ci_node2"], "Id": "abc"})
    nameless = SimpleNamespace(name=None, attrs={})
    assert [container_name(c) for c in (full, sparse, nameless)] == ["ci_node1", "ci_node2", ""]
