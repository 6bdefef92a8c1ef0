"""The deploy, as deploy.py runs it for each Docker host: observe once, plan, apply by phase."""

from __future__ import annotations

from pyinfra import host, logger
from pyinfra.api.exceptions import PyinfraError

from . import operations
from .desired import DesiredState, desired_state
from .errors import ClusterDeployError
from .facts import ClusterState
from .observe import ObservedState
from .plan import Action, Kind, plan
from .spec import Spec, load_spec

DEFAULT_STATE_DIR = "/var/lib/clusterdeploy"
DEFAULT_PARALLELISM = 8


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
    files_root = f"{state_dir.rstrip('/')}/{spec.name}"
    return host.get_fact(ClusterState, cluster=spec.name, network=spec.network.name,
                         files_root=files_root)


def compute(
    spec: Spec, observed: ObservedState, state_dir: str
) -> tuple[DesiredState, list[Action]]:
    desired = desired_state(spec, observed.images, state_dir)
    return desired, plan(desired, observed, host.name)


def _of(actions: list[Action], *kinds: Kind) -> list[Action]:
    return [a for a in actions if a.kind in kinds]


def deploy_cluster() -> None:
    """Converge this host's part of the cluster. Raises PyinfraError before any change."""
    spec = current_spec()
    state_dir = str(host.data.get("state_dir", DEFAULT_STATE_DIR))
    parallelism = int(host.data.get("parallelism", DEFAULT_PARALLELISM))
    try:
        desired, actions = compute(spec, observe(spec, state_dir), state_dir)
    except ClusterDeployError as exc:
        raise PyinfraError(str(exc)) from exc

    if not actions:
        logger.info(f"[{host.name}] plan: cluster {spec.name} is up to date "
                    f"({len(desired.containers)} containers)")
    else:
        logger.info(f"[{host.name}] plan for cluster {spec.name}:")
        for action in actions:
            logger.info(f"[{host.name}]   {action}")

    recreated = _of(actions, Kind.RECREATE)
    operations.images(name=f"Images of {spec.name}", desired=desired,
                      actions=_of(actions, Kind.BUILD, Kind.TAG), cluster=spec.name,
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
