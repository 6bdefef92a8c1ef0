"""The multi-host benchmark's reading of docker-call logs (bench/mh_calls.py): busy time as a
union of intervals, and the concurrency figure that places a run's wall time between its
slowest host and the sum of its hosts. Made-up calls, no engines."""

from __future__ import annotations

import importlib.util
import sys

from unitlib import REPO

_spec = importlib.util.spec_from_file_location("bench_mh_calls", REPO / "bench" / "mh_calls.py")
assert _spec and _spec.loader
calls = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = calls  # dataclasses look their module up
_spec.loader.exec_module(calls)


def call(start: float, end: float, kind: str = "create") -> object:
    return calls.Call(start, end, 0, kind)


def test_overlapping_calls_count_once():
    assert calls.union([(0.0, 2.0), (1.0, 3.0), (5.0, 6.0)]) == 4.0
    assert calls.union([(0.0, 4.0), (1.0, 2.0)]) == 4.0
    assert calls.union([]) == 0.0


def test_hosts_working_at_the_same_time_sit_at_the_slowest_host():
    hosts = {"h1": [call(1, 5)], "h2": [call(1, 4)], "h3": [call(1, 3)]}
    found = calls.concurrency(hosts, wall=6.0)
    assert found["outside"] == 2.0            # 6 s of wall, 4 s with a call somewhere
    assert found["slowest_host"] == 6.0       # 2 + 4
    assert found["sum_of_hosts"] == 11.0      # 2 + 4 + 3 + 2
    assert found["position"] == 0.0


def test_hosts_one_after_the_other_sit_at_the_sum():
    hosts = {"h1": [call(0, 2)], "h2": [call(2, 4)], "h3": [call(4, 6)]}
    found = calls.concurrency(hosts, wall=6.0)
    assert found["slowest_host"] == 2.0
    assert found["sum_of_hosts"] == 6.0
    assert found["position"] == 1.0


def test_one_host_has_no_concurrency_figure():
    assert calls.concurrency({"h1": [call(0, 1)]}, wall=2.0) is None


def test_a_command_is_named_by_its_group_and_verb():
    assert calls.command_kind(["network", "create", "--driver", "overlay"]) == "network create"
    assert calls.command_kind(["--debug", "inspect", "x"]) == "inspect"
    assert calls.command_kind(["start", "--", "node1"]) == "start"
