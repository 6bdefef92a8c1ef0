"""Reading one Docker host through pyinfra's connection to it: its state directory, the
cluster's lock there, the one observation, and what a deploy wants there. Used per host by
converge.py (one host) and for every host at once by spread.py (several hosts)."""

from __future__ import annotations

import atexit
import dataclasses
from typing import Any

from pyinfra import host, logger
from pyinfra.api import StringCommand

from ..clusterspec import Host, Spec
from ..core.desired import (
    DesiredState,
    desired_state,
    faults_dir,
    files_root,
    host_state_dir,
)
from ..core.images import refs_to_observe
from ..core.observed import ObservedState
from ..core.render import Rendered
from ..docker.engine import Engine, build_image_ids
from ..docker.lock import (
    DEFAULT_TIMEOUT,
    ClusterLock,
    Holder,
    command_line,
    inherited_token,
    lock_dir,
    timeout_seconds,
)
from ..errors import docker_unreachable
from ..faults.image import helper_image
from .facts import ClusterState, ImageListing
from .tunables import DEFAULT_STATE_DIR, checked_state_dir, flag


def state_dir(spec: Spec, target: Host, pyhost: Any = host) -> str:
    """This host's state directory for the cluster (core/desired.py host_state_dir)."""
    base = checked_state_dir(pyhost.data.get("state_dir", DEFAULT_STATE_DIR))
    return host_state_dir(base, target.name, spec.spans_hosts)


def images_to_observe(spec: Spec, kind: str) -> tuple[str, ...]:
    """The image references a plan of `kind` reads: a deploy those its plan looks up, a
    teardown none."""
    return refs_to_observe(spec) if kind == "deploy" else ()


def observe(spec: Spec, target: Host, pyhost: Any = host,
            image_refs: tuple[str, ...] | None = None) -> ObservedState:
    """One host's state, through pyinfra's connection to it (`pyhost`); its images: those
    named by `image_refs` (None: all of them)."""
    observed: ObservedState | None = pyhost.get_fact(
        ClusterState, cluster=spec.name, network=spec.network.name,
        files_root=files_root(spec.name, state_dir(spec, target, pyhost)),
        faults_dir=faults_dir(spec.name, state_dir(spec, target, pyhost)), host_name=target.name,
        image_refs=image_refs)
    if observed is None:  # pyinfra could not run the command at all
        raise docker_unreachable(target.name, "the observation did not run")
    return observed


def lock(spec: Spec, target: Host, pyhost: Any = host) -> None:
    """Take the cluster's lock on a host before looking at it; it is released when this
    process ends (however the deploy ends), or broken later if the process is killed."""
    def run_on_host(script: str) -> tuple[int, str]:
        ok, output = pyhost.run_shell_command(StringCommand("sh -s"), _stdin=script)
        return (0 if ok else 1), output.stdout

    here = state_dir(spec, target, pyhost)
    lock = ClusterLock(run_on_host, target.name, lock_dir(here, spec.name),
                       Holder.here(command_line(), inherited_token()))
    lock.acquire(timeout_seconds(pyhost.data.get("lock_timeout", DEFAULT_TIMEOUT)),
                 say=lambda text: logger.warning(f"[{pyhost.name}] {text}"))
    if lock.taken:
        def release() -> None:  # pyinfra's connection is gone by then: a fresh one
            with Engine(target) as engine:
                lock.run = engine.run
                lock.release()
        atexit.register(release)


def deploy_view(spec: Spec, rendered: Rendered, target: Host, observed: ObservedState,
                pyhost: Any = host) -> tuple[DesiredState, ObservedState]:
    """What a deploy wants on one host, and the host's state as its plan must see it. An
    observation of named image references settles a plan when every image the deploy wants
    there was found (the no-op and most changes); otherwise (an image to build or ship,
    faults whose helper image is to be found) every image is listed after all, so the plan
    never takes "not asked" for "not there"."""
    desired = desired_here(spec, rendered, target, observed, pyhost)
    if observed.images_listed or (
            not observed.faults and all(i.ref in observed.images for i in desired.images)):
        return desired, observed
    listing: tuple[dict[str, str], frozenset[str]] | None = pyhost.get_fact(
        ImageListing, host_name=target.name)
    if listing is None:
        raise docker_unreachable(target.name, "the image listing did not run")
    observed = dataclasses.replace(observed, images=listing[0], own_images=listing[1],
                                   images_listed=True)
    return desired_here(spec, rendered, target, observed, pyhost), observed


def desired_here(spec: Spec, rendered: Rendered, target: Host, observed: ObservedState,
                 pyhost: Any = host) -> DesiredState:
    """What a deploy wants on one host (its own part, over several hosts)."""
    build_ids = build_image_ids(target, observed.images)
    desired = desired_state(spec, rendered, state_dir(spec, target, pyhost),
                            build_ids=build_ids,
                            host_ids=observed.images, shipped=target.ships_images,
                            host_names=flag(pyhost.data.get("host_names", False)),
                            host=target.name if spec.spans_hosts else None)
    if observed.faults:  # healing them needs the helper image: the one that applied them, or
        desired = dataclasses.replace(  # this one (built where the others are)
            desired, fault_helper=helper_image(build_ids))
    return desired
