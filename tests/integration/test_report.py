"""Issue 17: report.html of a real run, opened in a real headless chromium.

A three-node cluster whose node3 crashes (SIGABRT to its server: exit code 2) while the suite
waits, so the shipped Go suite fails on node3; `clusterdeploy run --once` must end by printing
the report's path, and the page must show every container's lane, the failing test, the exit
code and find a known log line. A generated run folder of 100 nodes and 100,000 lines must
load too (its timings are measured by bench/report_load.py, never asserted here).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.synthetic_run import make_run_folder

from .browser import Page, chromium
from .conftest import REPO, Project, docker, make_project, remove_cluster, wait_for

pytestmark = pytest.mark.docker

NAME = "cdreport"
PORT_BASE = 41900
SUITE_DELAY = 8  # seconds the suite waits before testing: node3 is crashed meanwhile


@pytest.fixture(scope="module")
def browser() -> Iterator:
    with chromium() as new_page:
        yield new_page


@pytest.fixture(scope="module")
def project(engine: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    project = make_project(tmp_path_factory.mktemp("report"), NAME, PORT_BASE, 219)

    def small_and_failing(spec: dict) -> None:
        spec["nodes"] = spec["nodes"][:3]
        spec["tester"]["command"] = ["/bin/sh", "-c", f"sleep {SUITE_DELAY}; "
                                     "exec /root/service/cluster.test -test.v"]
        spec["tester"]["environment"] = {"CLUSTERTEST_WAIT": "3s"}

    project.edit_spec(small_and_failing)
    yield project
    remove_cluster(NAME)


def crash_node3() -> None:
    """SIGABRT to the Go server itself: a crash dump on stderr, exit code 2."""
    docker("exec", f"{NAME}_node3", "sh", "-c",
           'for p in /proc/[0-9]*; do [ "$(cat $p/comm)" = server ] && kill -ABRT "${p#/proc/}"; '
           "done; true")


@pytest.fixture(scope="module")
def run(project: Project) -> dict:
    """`clusterdeploy run --once`, node3 crashed while the suite waits."""
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    process = subprocess.Popen(
        [sys.executable, "-m", "clusterdeploy", "run", "--once", "--spec",
         str(project.spec_path), "--state-dir", str(project.state_dir)],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stderr: list[str] = []
    stdout: list[str] = []
    readers = [threading.Thread(target=lambda: stderr.extend(process.stderr), daemon=True),
               threading.Thread(target=lambda: stdout.extend(process.stdout), daemon=True)]
    for reader in readers:
        reader.start()
    try:
        wait_for(lambda: any("running the suite in" in line for line in stderr)
                 or process.poll() is not None, timeout=600)
        assert process.poll() is None, "".join(stderr)[-4000:]
        crash_node3()
        code = process.wait(timeout=300)
    finally:
        if process.poll() is None:
            process.kill()
    for reader in readers:
        reader.join(timeout=10)
    lines = [line.rstrip("\n") for line in stderr]
    found = re.fullmatch(r"\[clusterdeploy\] report: (\S+)", lines[-1])
    assert found, "\n".join(lines[-30:])
    return {"code": code, "stderr": lines, "stdout": "".join(stdout), "report": Path(found[1])}


def test_run_ends_by_printing_the_report_path(run: dict) -> None:
    assert run["code"] == 1, run["stdout"][-3000:]  # the suite's exit code
    report = run["report"]
    assert report.name == "report.html" and report.is_file()
    logs_line = next(line for line in run["stderr"] if "] logs: " in line)
    assert str(report.parent) in logs_line
    for name in ("cluster.json", "events.json", "suite.json", "suite.log", "summary.json"):
        assert (report.parent / name).is_file(), name
    events = json.loads((report.parent / "events.json").read_text())
    assert events["complete"] is True
    dies = [e for e in events["events"] if e["container"] == f"{NAME}_node3"
            and e["action"] == "die"]
    assert [e["exit_code"] for e in dies] == [2]


def test_the_report_of_a_real_run_in_a_real_browser(run: dict, browser, tmp_path: Path) -> None:
    report: Path = run["report"]
    page: Page = browser().open(report)
    screenshot = tmp_path / "report.png"
    page.page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.stat().st_size > 20_000

    summary = json.loads((report.parent / "summary.json").read_text())
    lanes = page.page.locator("#timeline g.lane").evaluate_all("gs => gs.map(g => g.dataset.c)")
    assert sorted(lanes) == sorted(summary) == sorted(
        [f"{NAME}_node{i}" for i in (1, 2, 3)] + [f"{NAME}_tester"])

    assert "Suite failed (exit code 1" in page.page.locator("#suite-status").inner_text()
    failing = page.page.locator(".tname", has_text=re.compile(r"^TestPing/node3$"))
    assert failing.is_visible()
    assert "GET /ping: still failing" in page.page.locator("pre.testout").first.inner_text()

    crash = page.page.locator(f'#timeline g.lane[data-c="{NAME}_node3"] g.mark.crash')
    assert crash.locator("text").text_content() == "exit 2"
    assert "exited (2)" in page.page.locator("table.cluster").inner_text()
    assert f"{NAME}_node3 crashed (exit code 2)" in page.page.locator("#what-happened").inner_text()

    page.page.fill("#search", "SIGABRT: abort")
    page.expect(page.page.locator("#logcount")).to_have_text(re.compile(r"^1 of "))
    row = page.page.locator("#logview .row").first
    assert "SIGABRT: abort" in row.inner_text() and f"{NAME}_node3" in row.inner_text()

    page.page.fill("#search", "")
    page.expect(page.page.locator("#logcount")).not_to_have_text(re.compile(r"^1 of "))
    crash.click()
    target = page.page.locator("#logview .row.target")
    assert target.count() == 1  # the log lines around the crash are on screen

    assert page.errors == []
    assert [url for url in page.requests if not url.startswith(("file:", "data:"))] == []


def test_report_command_writes_it_again(run: dict) -> None:
    report: Path = run["report"]
    before = report.stat().st_mtime_ns
    time.sleep(0.01)
    result = subprocess.run([sys.executable, "-m", "clusterdeploy", "report", str(report.parent)],
                            cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(report)
    assert report.stat().st_mtime_ns > before


def test_logs_command_writes_a_report_from_what_the_engine_still_holds(
        run: dict, project: Project) -> None:
    result = subprocess.run([sys.executable, "-m", "clusterdeploy", "logs", "--spec",
                             str(project.spec_path)], cwd=REPO, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    folder = Path(result.stdout.strip())
    assert result.stderr == f"report: {folder / 'report.html'}\n"
    events = json.loads((folder / "events.json").read_text())
    assert events["complete"] is False  # not recorded while it happened
    page = (folder / "report.html").read_text()
    assert "exited (2)" in page and "Docker holds 256" in page


def test_teardown_collects_and_writes_a_report(run: dict, project: Project) -> None:
    result = project.teardown()
    found = re.search(r"report: (\S+report\.html)", result.stdout + result.stderr)
    assert found, result.stdout[-3000:]
    folder = Path(found[1]).parent
    assert folder != run["report"].parent and Path(found[1]).is_file()
    shape = json.loads((folder / "cluster.json").read_text())
    assert {c["name"] for c in shape["containers"]} == {f"{NAME}_node{i}" for i in (1, 2, 3)} | {
        f"{NAME}_tester"}
    assert docker("ps", "-aq", "--filter", f"label=io.clusterdeploy.cluster={NAME}").stdout == ""


def test_100_nodes_and_100000_lines_load(browser, tmp_path: Path) -> None:
    run_dir = make_run_folder(tmp_path / "big", nodes=100, lines=100_000, crashed=37)
    result = subprocess.run([sys.executable, "-m", "clusterdeploy", "report", str(run_dir)],
                            cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    page: Page = browser().open(run_dir / "report.html")
    assert page.page.locator("#timeline g.lane").count() == 101
    assert page.page.locator("#timeline g.fault").count() == 2
    assert page.page.locator("#logcount").inner_text() == "100,004 of 100,004 lines"
    assert page.page.locator("#logview .row").count() < 100  # only the rows on screen
    page.page.fill("#search", "needle-in-the-logs")
    page.expect(page.page.locator("#logcount")).to_have_text(re.compile(r"^1 of "))
    assert "needle-in-the-logs" in page.page.locator("#logview .row").first.inner_text()
    assert page.errors == []
