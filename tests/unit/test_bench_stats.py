"""The benchmark's statistics (bench/stats.py): pairs by repetition, spreads, and verdicts that
say "within noise" when the spread straddles a limit. No timing here: the values are made up."""

from __future__ import annotations

import importlib.util

from unitlib import REPO

_spec = importlib.util.spec_from_file_location("bench_stats", REPO / "bench" / "stats.py")
assert _spec and _spec.loader
stats = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(stats)


def test_a_target_is_met_only_when_the_whole_spread_is_below_it():
    assert stats.verdict(0.80, 0.99, 1.0) == stats.MET
    assert stats.verdict(0.80, 1.0, 1.0) == stats.MET


def test_a_target_is_missed_only_when_the_whole_spread_is_above_it():
    assert stats.verdict(1.01, 1.30, 1.0) == stats.MISSED


def test_a_spread_across_the_limit_is_within_noise():
    assert stats.verdict(0.78, 1.31, 1.0) == stats.NOISE


def test_ratios_pair_the_same_repetition_not_the_medians():
    # medians 2.0 and 2.0 (ratio 1.0), but each repetition clusterdeploy was faster
    cd = [1.0, 2.0, 3.0]
    compose = [1.5, 2.5, 3.5]
    ratios = stats.paired(cd, compose)
    assert [round(r, 3) for r in ratios] == [0.667, 0.8, 0.857]
    assert stats.spread(ratios) == {"median": 0.8, "min": 0.667, "max": 0.857, "n": 3}


def test_a_repetition_without_a_value_is_left_out_of_its_pairs():
    assert stats.paired([1.0, None, 3.0], [2.0, 2.0, None]) == [0.5]
    assert stats.paired([1.0, 2.0], [0.25, 0.5], how="diff") == [0.75, 1.5]
    assert stats.spread([None, None]) is None


def test_the_order_of_the_tools_rotates_so_each_goes_first_in_turn():
    tools = ["clusterdeploy", "compose", "cli"]
    firsts = [stats.rotation(tools, rep)[0] for rep in range(6)]
    assert firsts == ["clusterdeploy", "compose", "cli"] * 2
    assert sorted(stats.rotation(tools, 4)) == sorted(tools)


def test_summary_and_targets_from_raw_times():
    raw = {"5": {
        "clusterdeploy": {"cold": [3.0, 3.2], "noop": [0.9, 1.0], "change1": [2.0, 2.2],
                          "teardown": [1.5, 1.7], "teardown_nologs": [1.0, 1.1],
                          "startup_bare": [0.75, 0.85], "startup": [0.8, 0.9]},
        "compose": {"cold": [3.1, 3.0], "noop": [1.0, 1.1], "change1": [2.5, 2.0],
                    "teardown": [1.6, 1.6]},
    }}
    summary = stats.summarize(raw)
    row = summary["5"]
    assert row["cold"]["vs_compose"]["min"] == round(3.0 / 3.1, 3)
    assert row["cold"]["vs_compose"]["max"] == round(3.2 / 3.0, 3)
    assert row["teardown_nologs"]["vs_compose"]["max"] == round(1.1 / 1.6, 3)
    assert row["noop_own"] == {"median": 0.15, "min": 0.15, "max": 0.15, "n": 2}
    verdicts = {t["target"]: t["verdict"] for t in stats.targets(summary)}
    assert verdicts == {
        "cold N=5 <= 1.0x compose": stats.NOISE,      # 0.97-1.07
        "noop N=5 <= 1.0x compose": stats.MET,        # 0.90-0.91
        "change1 N=5 <= 1.0x compose": stats.NOISE,   # 0.80-1.10
        "teardown N=5 <= 1.0x compose": stats.NOISE,  # 0.94-1.06
        "own part of a no-op N=5 <= 0.2 s": stats.MET,
    }
