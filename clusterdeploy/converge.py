"""The deploy, as deploy.py runs it for each Docker host: observe once, plan, apply by phase."""

from __future__ import annotations

from pyinfra import host, logger
from pyinfra.api.exceptions import PyinfraError

from . import operations
from .converge_defaults import DEFAULT_PARALLELISM, DEFAULT_STATE_DIR
from .desired import DesiredState, desired_for, files_root
from .errors import ClusterDeployError
from .facts import ClusterState
from .observe import ObservedState
from .plan import Action, Kind, plan, plan_teardown
from .spec import Spec, load_spec


def current_spec() -> Spec:
    """The spec the inventory attached to this host, or the one CLUSTER_SPEC names."""
    spec = host.data.get("cluster_spec")
    if spec is None:
        try:
            spec = load_spec()
        except ClusterDeployError as exc:
            raise PyinfraError(str(exc)) from exc
    return spec


def observe(spec: Spec, state_dir: str) -> ObservedState:
    return host.get_fact(ClusterState, cluster=spec.name, network=spec.network.name,
                         files_root=files_root(spec.name, state_dir))


def image_transport() -> str:
    """"here" for the local engine; for a remote host the spec's choice, "ship" by default."""
    from pyinfra.connectors.local import LocalConnector

    if isinstance(host.connector, LocalConnector):
        return "here"
    cluster_host = host.data.get("cluster_host")
    return cluster_host.images if cluster_host is not None else "ship"


def compute(
    spec: Spec, observed: ObservedState, state_dir: str, how: str = "here"
) -> tuple[DesiredState, list[Action]]:
    desired = desired_for(spec, observed, state_dir, how)
    return desired, plan(desired, observed, host.name)


def _of(actions: list[Action], *kinds: Kind) -> list[Action]:
    return [a for a in actions if a.kind in kinds]


def _tunables() -> tuple[str, int]:
    return (str(host.data.get("state_dir", DEFAULT_STATE_DIR)),
            int(host.data.get("parallelism", DEFAULT_PARALLELISM)))


def _log_plan(spec: Spec, actions: list[Action], idle: str) -> None:
    if not actions:
        logger.info(f"[{host.name}] plan: {idle}")
        return
    logger.info(f"[{host.name}] plan for cluster {spec.name}:")
    for action in actions:
        logger.info(f"[{host.name}]   {action}")


def deploy_cluster() -> None:
    """Converge this host's part of the cluster. Raises PyinfraError before any change."""
    spec = current_spec()
    state_dir, parallelism = _tunables()
    how = image_transport()
    try:
        desired, actions = compute(spec, observe(spec, state_dir), state_dir, how)
    except ClusterDeployError as exc:
        raise PyinfraError(str(exc)) from exc

    _log_plan(spec, actions, f"cluster {spec.name} is up to date "
                             f"({len(desired.containers)} containers)")

    recreated = _of(actions, Kind.RECREATE)
    operations.images(name=f"Images of {spec.name}", desired=desired,
                      actions=_of(actions, Kind.BUILD, Kind.TAG), how=how,
                      stream_builds=bool(host.data.get("stream_builds", False)))
    operations.remove_containers(name="Remove changed and removed containers",
                                 actions=_of(actions, Kind.REMOVE) + recreated,
                                 parallelism=parallelism)
    operations.network(name=f"Network {spec.network.name}", desired=desired,
                       actions=_of(actions, Kind.REMOVE_NETWORK, Kind.CREATE_NETWORK),
                       cluster=spec.name)
    operations.files(name="Rendered files", desired=desired,
                     actions=_of(actions, Kind.WRITE_FILE, Kind.REMOVE_FILES))
    operations.containers(name="Containers", desired=desired,
                          actions=_of(actions, Kind.CREATE, Kind.RECREATE, Kind.START),
                          cluster=spec.name, parallelism=parallelism)
    operations.wait_healthy(name="Wait until healthy", desired=desired,
                            actions=_of(actions, Kind.WAIT))


def teardown_cluster() -> None:
    """Stop and remove everything labelled with the cluster on this host.

    Graceful by default; `--data force=true` kills at once. Unlabelled resources are untouched.
    """
    spec = current_spec()
    state_dir, parallelism = _tunables()
    force = bool(host.data.get("force", False))
    try:
        actions = plan_teardown(spec.name, observe(spec, state_dir),
                                files_root(spec.name, state_dir),
                                force=force, host=host.name)
    except ClusterDeployError as exc:
        raise PyinfraError(str(exc)) from exc
    _log_plan(spec, actions, f"nothing of cluster {spec.name} on this host")
    operations.collect_logs(name="Collect logs", cluster=spec.name, logs_dir=str(spec.logs_dir),
                            containers=len(_of(actions, Kind.REMOVE)),
                            cluster_host=host.data.get("cluster_host"))
    operations.remove_containers(name=f"Remove the containers of {spec.name}",
                                 actions=_of(actions, Kind.REMOVE), parallelism=parallelism,
                                 force=force)
    operations.network(name="Remove the network", desired=None,
                       actions=_of(actions, Kind.REMOVE_NETWORK), cluster=spec.name)
    operations.files(name="Remove rendered files", desired=None,
                     actions=_of(actions, Kind.REMOVE_FILES))
