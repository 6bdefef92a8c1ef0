"""Run pyinfra in-process with wall-clock marks around clusterdeploy's stages.

    CLUSTER_SPEC=spec.yml .venv/bin/python bench/stages.py -y inventory.py deploy.py \\
        --data state_dir=/tmp/x

(from the repository root, with the project's .venv). It prints, to stderr, seconds since the
interpreter started at: pyinfra imported, clusterdeploy imported, the end of each wrapped
stage (spec load, observation, desired state, plan, the deploy code) and exit. Nothing in the
repository is changed: the functions are wrapped at run time, and names that no longer exist
are skipped.
"""

from __future__ import annotations

import atexit
import functools
import importlib
import sys
import time

T0 = time.perf_counter()
MARKS: list[tuple[str, float]] = []
TOTALS: dict[str, float] = {}


def mark(label: str) -> None:
    MARKS.append((label, time.perf_counter() - T0))


from pyinfra_cli.main import main  # noqa: E402  (after T0: its import is what we time)

mark("imported pyinfra_cli.main")

STAGES = [
    ("clusterdeploy.deploy.inventory", "load_spec"),
    ("clusterdeploy.deploy.inventory", "render_cluster"),
    ("clusterdeploy.deploy.converge", "observe"),
    ("clusterdeploy.deploy.converge", "desired_state"),
    ("clusterdeploy.deploy.converge", "plan"),
    ("clusterdeploy.deploy.converge", "deploy_cluster"),
    ("clusterdeploy.deploy.converge", "teardown_cluster"),
]


def wrap(module_name: str, name: str) -> None:
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return
    original = getattr(module, name, None)
    if not callable(original):
        return
    label = f"{module_name}.{name}"

    @functools.wraps(original)
    def timed(*args, **kwargs):
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            TOTALS[label] = TOTALS.get(label, 0.0) + time.perf_counter() - start
            mark(f"end {label}")

    setattr(module, name, timed)


for module_name, name in STAGES:
    wrap(module_name, name)
mark("imported clusterdeploy")


@atexit.register
def report() -> None:
    mark("exit")
    print("\n--- stages (seconds since start)", file=sys.stderr)
    for label, seconds in MARKS:
        print(f"{seconds:7.3f}  {label}", file=sys.stderr)
    for label, seconds in TOTALS.items():
        print(f"  in {label}: {seconds:.3f}", file=sys.stderr)


if __name__ == "__main__":
    sys.argv = ["pyinfra", *sys.argv[1:]]
    sys.exit(main())
