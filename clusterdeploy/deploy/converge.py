"""Deploy and teardown as deploy.py and teardown.py run them for each Docker host:
observe once, plan, apply the plan phase by phase."""

from __future__ import annotations

import atexit
import dataclasses
from collections.abc import Callable
from pathlib import Path

from pyinfra import host, logger
from pyinfra.api import StringCommand
from pyinfra.api.exceptions import PyinfraError
from pyinfra.connectors.local import LocalConnector

from ..clusterspec import Host, Spec, SSHAccess, load_spec
from ..core.actions import Action
from ..core.desired import desired_state, faults_dir, files_root
from ..core.observed import ObservedState
from ..core.plan import plan
from ..core.render import Rendered, render_cluster
from ..core.teardown import plan_teardown
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
from ..errors import ClusterDeployError, docker_unreachable
from ..faults.image import helper_image
from .context import ApplyContext
from .facts import ClusterState
from .phases import apply
from .tunables import DEFAULT_PARALLELISM, DEFAULT_STATE_DIR, checked_state_dir


def current_cluster() -> tuple[Spec, Rendered]:
    """The spec and rendered files the inventory attached to this host, or those of the spec
    CLUSTER_SPEC names."""
    spec, rendered = host.data.get("cluster_spec"), host.data.get("cluster_rendered")
    if spec is None or rendered is None:
        spec = load_spec()
        rendered = render_cluster(spec)
    return spec, rendered


def this_host() -> Host:
    """The spec's host this pyinfra host is, or (a host named on pyinfra's command line) one
    made from pyinfra's own connection settings."""
    known: Host | None = host.data.get("cluster_host")
    if known is not None:
        return known
    if isinstance(host.connector, LocalConnector):
        return Host(name=host.name, ssh=None, images="ship")
    data = host.data
    key, known_hosts = data.get("ssh_key"), data.get("ssh_known_hosts_file")
    return Host(name=host.name, images="ship", ssh=SSHAccess(
        address=data.get("ssh_hostname") or host.name, user=data.get("ssh_user") or "root",
        port=int(data.get("ssh_port") or 22), key=Path(key) if key else None,
        known_hosts=Path(known_hosts) if known_hosts else None))


def _context(spec: Spec, target: Host) -> ApplyContext:
    return ApplyContext(
        cluster=spec.name,
        host=target,
        how="here" if target.is_local else target.images,
        parallelism=int(host.data.get("parallelism", DEFAULT_PARALLELISM)),
        stream_builds=bool(host.data.get("stream_builds", False)),
        logs_dir=spec.logs_dir,
    )


def _state_dir() -> str:
    return checked_state_dir(host.data.get("state_dir", DEFAULT_STATE_DIR))


def observe(spec: Spec, target: Host) -> ObservedState:
    observed: ObservedState | None = host.get_fact(
        ClusterState, cluster=spec.name, network=spec.network.name,
        files_root=files_root(spec.name, _state_dir()),
        faults_dir=faults_dir(spec.name, _state_dir()), host_name=target.name)
    if observed is None:  # pyinfra could not run the command at all
        raise docker_unreachable(target.name, "the observation did not run")
    return observed


def _log_plan(spec: Spec, actions: list[Action], idle: str) -> None:
    if not actions:
        logger.info(f"[{host.name}] plan: {idle}")
        return
    logger.info(f"[{host.name}] plan for cluster {spec.name}:")
    for action in actions:
        logger.info(f"[{host.name}]   {action}")


def _run_on_host(script: str) -> tuple[int, str]:
    ok, output = host.run_shell_command(StringCommand("sh -s"), _stdin=script)
    return (0 if ok else 1), output.stdout


def _lock(spec: Spec, target: Host) -> None:
    """Take the cluster's lock on this host before looking at it; it is released when this
    process ends (however the deploy ends), or broken later if the process is killed."""
    lock = ClusterLock(_run_on_host, target.name, lock_dir(_state_dir(), spec.name),
                       Holder.here(command_line(), inherited_token()))
    lock.acquire(timeout_seconds(host.data.get("lock_timeout", DEFAULT_TIMEOUT)),
                 say=lambda text: logger.warning(f"[{host.name}] {text}"))
    if lock.taken:
        def release() -> None:  # pyinfra's connection is gone by then: a fresh one
            with Engine(target) as engine:
                lock.run = engine.run
                lock.release()
        atexit.register(release)


def _converge(make_plan: Callable[[Spec, Rendered, Host, ObservedState], list[Action]],
              idle: Callable[[Spec], str]) -> None:
    try:
        spec, rendered = current_cluster()
        target = this_host()
        _lock(spec, target)
        actions = make_plan(spec, rendered, target, observe(spec, target))
    except ClusterDeployError as exc:
        raise PyinfraError(str(exc)) from exc
    _log_plan(spec, actions, idle(spec))
    apply(actions, _context(spec, target))


def _deploy_plan(spec: Spec, rendered: Rendered, target: Host,
                 observed: ObservedState) -> list[Action]:
    build_ids = build_image_ids(target, observed.images)
    desired = desired_state(spec, rendered, _state_dir(), build_ids=build_ids,
                            host_ids=observed.images, shipped=target.ships_images,
                            host_names=bool(host.data.get("host_names", False)))
    if observed.faults:  # healing them needs the helper image: the one that applied them, or
        desired = dataclasses.replace(  # this one (built where the others are)
            desired, fault_helper=helper_image(build_ids))
    return plan(desired, observed, target.name)


def deploy_cluster() -> None:
    """Converge this host's part of the cluster. Raises PyinfraError before any change."""
    _converge(_deploy_plan, lambda spec: f"cluster {spec.name} is up to date "
                                         f"({len(spec.members)} containers)")


def teardown_cluster() -> None:
    """Collect the logs, then stop and remove everything labelled with the cluster on this host.

    Graceful by default; `--data force=true` kills at once. Data volumes stay unless
    `--data volumes=remove` (or a volume says `keep: false`). Unlabelled resources are untouched.
    """
    force = bool(host.data.get("force", False))
    remove_volumes = str(host.data.get("volumes", "keep")) == "remove"
    _converge(lambda spec, _rendered, _target, observed: plan_teardown(
        spec.name, observed, files_root(spec.name, _state_dir()), force=force,
        remove_volumes=remove_volumes, faults_dir=faults_dir(spec.name, _state_dir())),
        lambda spec: f"nothing of cluster {spec.name} on this host")
