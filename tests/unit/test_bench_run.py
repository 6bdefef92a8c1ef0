"""bench/run.py's bookkeeping: a tool that fails every attempt of one repetition costs that
repetition only; the others and the summary survive (a run once lost all its results)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest
from unitlib import REPO


@pytest.fixture
def bench_run(monkeypatch):
    monkeypatch.syspath_prepend(str(REPO / "bench"))
    for name in ("run", "checks", "report", "shape", "shim", "stats", "tools"):
        sys.modules.pop(name, None)
    return importlib.import_module("run")


def test_a_repetition_a_tool_gave_up_on_leaves_a_gap_not_a_lost_run(bench_run, monkeypatch):
    def one_cycle(setup, tool, n, rep, result):
        if tool == "compose" and rep == 1:
            result["failures"].append({"n": n, "rep": rep + 1, "tool": tool})
            raise RuntimeError("network has active endpoints")
        return {"cold": 1.0 + rep, "noop": 0.5}
    monkeypatch.setattr(bench_run, "one_cycle", one_cycle)
    monkeypatch.setattr(bench_run, "load_average", lambda: "0.0")
    result = {"raw": {}, "order": {}, "load": {}, "docker_calls": {}, "failures": []}
    setup = bench_run.Setup(repo=REPO, pyinfra=Path("pyinfra"), bench=REPO / "bench",
                            compose=Path("compose"), work=Path("/nonexistent"))
    bench_run.measure(setup, [5], 3, ["clusterdeploy", "compose"], False, result)
    raw = result["raw"]["5"]
    assert raw["clusterdeploy"]["cold"] == [1.0, 2.0, 3.0]
    assert raw["compose"]["cold"] == [1.0, None, 3.0]
    assert len(result["failures"]) == 1
    cold = bench_run.summarize(result["raw"])["5"]["cold"]
    assert cold["compose"]["n"] == 2 and cold["clusterdeploy"]["n"] == 3
    assert cold["vs_compose"] == {"median": 1.0, "min": 1.0, "max": 1.0, "n": 2}  # paired reps
