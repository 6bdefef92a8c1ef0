"""Deploy and teardown as deploy.py and teardown.py run them for each Docker host:
observe once, plan, apply the plan phase by phase."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pyinfra import host, logger
from pyinfra.api.exceptions import PyinfraError
from pyinfra.connectors.local import LocalConnector

from ..clusterspec import Host, Spec, SSHAccess, load_spec
from ..core.actions import Action
from ..core.desired import faults_dir, files_root
from ..core.observed import ObservedState
from ..core.plan import plan
from ..core.render import Rendered, render_cluster
from ..core.teardown import plan_teardown
from ..errors import ClusterDeployError
from . import spread
from .context import ApplyContext
from .phases import apply
from .reading import deploy_view, images_to_observe, lock, observe, state_dir
from .tunables import DEFAULT_PARALLELISM, flag


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
        stream_builds=flag(host.data.get("stream_builds", False)),
        logs_dir=spec.logs_dir,
        state_dir=state_dir(spec, target),
        spans_hosts=spec.spans_hosts,
    )


def _log_plan(spec: Spec, actions: list[Action], idle: str) -> None:
    if not actions:
        logger.info(f"[{host.name}] plan: {idle}")
        return
    logger.info(f"[{host.name}] plan for cluster {spec.name}:")
    for action in actions:
        logger.info(f"[{host.name}]   {action}")


def _converge(kind: str, make_plan: Callable[[Spec, Rendered, Host, ObservedState], list[Action]],
              spread_plans: spread.Planner, idle: Callable[[Spec, Host], str]) -> None:
    """Plan this host's part and apply it: alone (one host), or as its share of the plans the
    first host prepared for all (several hosts, deploy/spread.py)."""
    try:
        spec, rendered = current_cluster()
        target = this_host()
        if spec.spans_hosts:
            actions = spread.actions_for(kind, spec, rendered, target, spread_plans)
        else:
            lock(spec, target)
            actions = make_plan(spec, rendered, target, observe(
                spec, target, image_refs=images_to_observe(spec, kind)))
    except ClusterDeployError as exc:
        raise PyinfraError(str(exc)) from exc
    _log_plan(spec, actions, idle(spec, target))
    apply(actions, _context(spec, target))


def _deploy_plan(spec: Spec, rendered: Rendered, target: Host,
                 observed: ObservedState) -> list[Action]:
    desired, observed = deploy_view(spec, rendered, target, observed)
    return plan(desired, observed, target.name)


def _up_to_date(spec: Spec, target: Host) -> str:
    here = len(spec.members_on(target.name)) if spec.spans_hosts else len(spec.members)
    return f"cluster {spec.name} is up to date ({here} containers)"


def deploy_cluster() -> None:
    """Converge this host's part of the cluster. Raises PyinfraError before any change."""
    _converge("deploy", _deploy_plan, spread.deploy_plans, _up_to_date)


def teardown_cluster() -> None:
    """Collect the logs, then stop and remove everything labelled with the cluster on this host.

    Graceful by default; `--data force=true` kills at once. Data volumes stay unless
    `--data volumes=remove` (or a volume says `keep: false`). Unlabelled resources are untouched.
    Over several hosts, `--data leave_swarm=true` also takes the hosts clusterdeploy put into a
    swarm out of it. `--data collect_logs=false` skips the log collection (the logs are lost).
    """
    force = flag(host.data.get("force", False))
    remove_volumes = str(host.data.get("volumes", "keep")) == "remove"
    leave_swarm = flag(host.data.get("leave_swarm", False))
    collect = flag(host.data.get("collect_logs", True))
    _converge("teardown", lambda spec, _rendered, target, observed: plan_teardown(
        spec.name, observed, files_root(spec.name, state_dir(spec, target)), force=force,
        remove_volumes=remove_volumes, faults_dir=faults_dir(spec.name, state_dir(spec, target)),
        collect_logs=collect),
        lambda spec, _rendered, views: spread.teardown_plans(
            spec, views, force=force, remove_volumes=remove_volumes, leave_swarm=leave_swarm,
            collect_logs=collect),
        lambda spec, _target: f"nothing of cluster {spec.name} on this host")
