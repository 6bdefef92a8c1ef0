"""The log-collection step of the pyinfra layer: containers' logs to this machine before they
are removed, through the host's Engine (local or over SSH)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..core.actions import CollectLogs
from ..docker.engine import Engine
from ..docker.logs import collect_logs, new_run_dir, private_file
from ..errors import ClusterDeployError
from ..report import try_write_report
from .context import ApplyContext
from .output import fail, info


def collect(state: Any, host: Any, action: CollectLogs, context: ApplyContext) -> bool:
    """A pyinfra FunctionCommand: the action's containers' logs into a new run folder."""
    try:
        with Engine(context.host) as engine:
            run_dir = collect_logs(engine, context.cluster, context.logs_dir,
                                   only={c.id for c in action.containers}, label=action.label,
                                   faults_dir=action.faults_dir, latest=action.latest,
                                   before_stop=True)  # the plan stops them after this
    except ClusterDeployError as exc:
        return fail(host, str(exc))
    if run_dir:
        info(host, f"logs collected in {run_dir}")
        info(host, f"report: {try_write_report(run_dir)}")
    return True


def save_output(logs_dir: Path, label: str, name: str, lines: Sequence[str]) -> Path:
    """Keep a command's output in a new folder of the logs directory; its path."""
    run_dir = new_run_dir(logs_dir, label=label)
    with private_file(run_dir / name) as out:
        out.writelines(f"{line}\n" for line in lines)
    return run_dir / name
