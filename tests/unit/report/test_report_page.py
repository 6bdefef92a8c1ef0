"""The page's invariants: self-contained, nothing fetched, every container a lane, the
failing test and the crash's exit code on it, log lines that cannot break out of the page."""

from __future__ import annotations

import json
import re

import pytest

from clusterdeploy.report import REPORT_NAME, write_report
from clusterdeploy.report.model import build_report
from clusterdeploy.report.render import render
from tests.synthetic_run import make_run_folder


@pytest.fixture
def run_dir(tmp_path):
    return make_run_folder(tmp_path / "run", nodes=4, lines=200, crashed=2)


def page_data(html: str) -> dict:
    found = re.search(r'<script type="application/json" id="data">(.*?)</script>', html, re.S)
    assert found
    return json.loads(found.group(1))


def test_every_slot_is_filled_and_every_container_has_a_lane(run_dir):
    html = render(build_report(run_dir))
    assert "<!--@" not in html
    lanes = re.findall(r'<g class="lane (?:node|tester)" data-c="([^"]+)">', html)
    assert lanes == ["syn_node1", "syn_node2", "syn_node3", "syn_node4", "syn_tester"]


def test_nothing_is_fetched(run_dir):
    html = render(build_report(run_dir))
    assert "default-src 'none'" in html  # the page's CSP: no request leaves it
    assert not re.search(r'\b(src|href)="(?!#|data:)', html)
    assert "<link rel=\"stylesheet\"" not in html and "@import" not in html


def test_the_crash_and_the_failing_test_are_on_the_page(run_dir):
    html = render(build_report(run_dir))
    assert '<text class="marklabel"' in html and ">exit 2</text>" in html
    assert "TestPing/node3" in html and 'class="badge fail"' in html
    assert "Suite failed (exit code 1" in html


def test_log_lines_cannot_break_out_of_the_page(run_dir):
    hostile = '</script><script>alert(1)</script><!-- \u2028 "quoted" & <b>'
    with (run_dir / "cluster.log").open("a") as out:
        out.write(json.dumps({"container": "syn_node1", "time": "2026-11-28T08:10:00Z",
                              "message": hostile}) + "\n")
    html = render(build_report(run_dir))
    assert "<script>alert" not in html
    assert page_data(html)["logs"]["m"][-1] == hostile


def test_the_data_the_viewer_reads(run_dir):
    report = build_report(run_dir)
    data = page_data(render(report))
    logs = data["logs"]
    assert len(logs["t"]) == len(logs["c"]) == len(logs["l"]) == len(logs["m"]) == 204
    assert data["t0"] == report.t0 and data["span"] == report.t1 - report.t0


def test_write_report_replaces_the_file_privately(run_dir):
    first = write_report(run_dir)
    assert first == run_dir / REPORT_NAME
    assert write_report(run_dir) == first
    assert first.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in run_dir.iterdir() if p.name.startswith(".")] == []
