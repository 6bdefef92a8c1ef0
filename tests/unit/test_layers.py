"""Imports only go down the pipeline: a stage imports only the stages below it (README,
"Architecture"), so there is no cycle between stages."""

from __future__ import annotations

import ast

import pytest
from unitlib import REPO

PACKAGE = REPO / "clusterdeploy"
RANK = {"errors": 0, "packagedata": 0, "clusterspec": 1, "core": 2, "docker": 3, "faults": 4,
        "deploy": 5, "lifecycle": 5, "scaffold": 5, "cli": 6}


def stages_imported(path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 2 and node.module:
            found.add(node.module.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.level == 2:
            found |= {alias.name for alias in node.names}
    return found


@pytest.mark.parametrize("stage", sorted(s for s in RANK if (PACKAGE / s).is_dir()))
def test_a_stage_imports_only_stages_below_it(stage):
    for module in sorted((PACKAGE / stage).rglob("*.py")):
        upward = {s for s in stages_imported(module) if RANK.get(s, 0) >= RANK[stage]}
        assert not upward, f"{module.relative_to(REPO)} imports {sorted(upward)}"
