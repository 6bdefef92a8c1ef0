"""Validate many specs in one process, as `clusterdeploy validate` does, and say how each went.

stdin: JSON {case id: spec path}; stdout: JSON {case id: {"kind", "message"}}. Run by
test_hostile.py under a memory and time limit. The render time bound is lowered so that a
template that loops forever is caught in seconds.
"""

from __future__ import annotations

import json
import sys

from clusterdeploy.clusterspec import load_spec
from clusterdeploy.core import sandbox
from clusterdeploy.core.images import desired_images
from clusterdeploy.core.render import render_cluster

sandbox.RENDER_SECONDS = 1.0


def main() -> None:
    outcomes = {}
    for case_id, path in json.load(sys.stdin).items():
        try:
            spec = load_spec(path)
            render_cluster(spec)
            desired_images(spec, {})
            outcomes[case_id] = {"kind": "valid", "message": ""}
        except Exception as exc:
            outcomes[case_id] = {"kind": type(exc).__name__, "message": str(exc)}
    json.dump(outcomes, sys.stdout)


if __name__ == "__main__":
    main()
