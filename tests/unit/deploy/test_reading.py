"""A deploy's view of a host's images: the named references settle the plan when they can,
and the full listing is read when they cannot (never "not asked" taken for "not there")."""

from __future__ import annotations

import dataclasses

import pytest
from unitlib import BASE_IDS, desired_for, observed_from

from clusterdeploy.clusterspec import Host, load_spec
from clusterdeploy.core.observed import ObservedFault
from clusterdeploy.core.plan import plan
from clusterdeploy.core.render import render_cluster
from clusterdeploy.deploy.facts import ImageListing
from clusterdeploy.deploy.reading import deploy_view


class FakePyinfraHost:
    """pyinfra's host as deploy_view uses it: its data, and facts answered from a listing."""

    def __init__(self, listing):
        self.data: dict = {}
        self.listing = listing
        self.facts: list = []

    def get_fact(self, fact, **kwargs):
        self.facts.append(fact)
        assert fact is ImageListing
        return self.listing


@pytest.fixture
def spec(project):
    return load_spec(project / "cluster.yml")


def seen_by_name(observed, drop=()):
    """The observation of named refs: the bases, every image's refs minus `drop`."""
    images = {**{k: v for k, v in observed.images.items() if k not in drop},
              "debian:bookworm": BASE_IDS["debian:bookworm"]}
    return dataclasses.replace(observed, images=images, images_listed=False)


def test_a_no_op_is_planned_from_the_named_refs_alone(spec):
    observed = seen_by_name(observed_from(desired_for(spec)))
    pyhost = FakePyinfraHost(listing=None)
    desired, seen = deploy_view(spec, render_cluster(spec), Host("local", None, "ship"),
                                observed, pyhost)
    assert pyhost.facts == [] and seen is observed
    assert plan(desired, seen, "local") == []


@pytest.mark.parametrize("why", ["hash tag not among latest's tags", "faults to heal"])
def test_what_the_named_refs_cannot_settle_is_read_from_the_listing(spec, why):
    full = observed_from(desired_for(spec))
    node_ref = next(ref for ref in full.images if ref.startswith("my-db:") and
                    not ref.endswith(":latest"))
    drop = (node_ref,) if why.startswith("hash") else ()
    observed = seen_by_name(full, drop)
    if why == "faults to heal":
        observed = dataclasses.replace(observed, faults=(ObservedFault(
            "f1", "isolate", ("node1",), "2026-11-28T00:00:00Z", (), "helper:x", "{}"),))
    listing = ({**full.images, **BASE_IDS}, full.own_images)
    pyhost = FakePyinfraHost(listing)
    desired, seen = deploy_view(spec, render_cluster(spec), Host("local", None, "ship"),
                                observed, pyhost)
    assert pyhost.facts == [ImageListing]
    assert seen.images_listed and seen.images == listing[0]
    assert node_ref in seen.images  # so the plan builds nothing
    assert not [a for a in plan(desired, seen, "local") if type(a).__name__ == "Build"]
