"""How big report.html gets and how fast it loads: generated run folders (tests/synthetic_run.py:
N nodes, L log lines, a crash, two fault windows, a failing Go suite), the report written by
the package, opened in headless chromium (Debian's, through Playwright, as the tests do).

    .venv/bin/python bench/report_load.py                 # 5/1k, 30/10k, 100/100k; ~1 minute
    .venv/bin/python bench/report_load.py --sizes 100:100000 --reps 1

Writes a table to stdout and to bench/results/report.md (raw numbers: report.json).
Times are medians over the repetitions, seconds."""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from clusterdeploy.report import write_report  # noqa: E402
from tests.integration.browser import chromium  # noqa: E402
from tests.synthetic_run import make_run_folder  # noqa: E402


def measure(nodes: int, lines: int, new_page, work: Path) -> dict:
    run_dir = make_run_folder(work / f"run-{nodes}-{lines}", nodes=nodes, lines=lines,
                              crashed=min(3, nodes))
    started = time.perf_counter()
    report = write_report(run_dir)
    written = time.perf_counter() - started
    page = new_page()
    started = time.perf_counter()
    page.open(report)
    loaded = time.perf_counter() - started
    navigation = page.page.evaluate(
        "() => { const n = performance.getEntriesByType('navigation')[0];"
        " return [n.domContentLoadedEventEnd, n.loadEventEnd]; }")
    started = time.perf_counter()
    page.page.fill("#search", "needle-in-the-logs")
    page.expect(page.page.locator("#logcount")).to_have_text(f"1 of {lines + 4:,} lines")
    searched = time.perf_counter() - started
    started = time.perf_counter()
    page.page.locator("#timeline g.mark.crash").first.click()
    page.expect(page.page.locator("#logview .row.target")).to_have_count(1)
    jumped = time.perf_counter() - started
    heap = page.page.evaluate("() => performance.memory ? performance.memory.usedJSHeapSize : 0")
    assert page.errors == [], page.errors
    page.page.close()
    return {"nodes": nodes, "lines": lines,
            "cluster_log_mb": (run_dir / "cluster.log").stat().st_size / 1e6,
            "report_mb": report.stat().st_size / 1e6, "write_s": written, "load_s": loaded,
            "dom_ready_ms": navigation[0], "load_event_ms": navigation[1],
            "search_s": searched, "jump_s": jumped, "heap_mb": heap / 1e6}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="5:1000,30:10000,100:100000")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--out", default=str(REPO / "bench" / "results" / "report"))
    args = parser.parse_args()
    sizes = [tuple(int(x) for x in size.split(":")) for size in args.sizes.split(",")]
    rows = []
    with tempfile.TemporaryDirectory(prefix="cdreport-bench-") as work, chromium() as new_page:
        for nodes, lines in sizes:
            runs = [measure(nodes, lines, new_page, Path(work) / str(rep))
                    for rep in range(args.reps)]
            rows.append({key: statistics.median(run[key] for run in runs) for key in runs[0]})
    header = ("| nodes | log lines | cluster.log MB | report.html MB | write s | load s | "
              "DOMContentLoaded ms | search s | jump s | JS heap MB |\n"
              "|---|---|---|---|---|---|---|---|---|---|")
    table = "\n".join(
        f"| {r['nodes']:.0f} | {r['lines']:,.0f} | {r['cluster_log_mb']:.1f} | "
        f"{r['report_mb']:.1f} | {r['write_s']:.2f} | {r['load_s']:.2f} | "
        f"{r['dom_ready_ms']:.0f} | {r['search_s']:.2f} | {r['jump_s']:.2f} | "
        f"{r['heap_mb']:.0f} |" for r in rows)
    text = (f"# report.html: size and load time ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)\n\n"
            f"Machine: {platform.machine()}, Python {platform.python_version()}, headless "
            f"chromium (Debian's) through Playwright. Medians of {args.reps} runs. "
            "write: the package reads the run folder and writes the page; load: goto until the "
            "page's script has drawn the log viewer; search: typing a word until the count "
            "shows (150 ms of it is the input's debounce); jump: a click on the crash until "
            "its log line is marked.\n\n" + header + "\n" + table + "\n")
    print(text)
    Path(args.out + ".md").write_text(text)
    Path(args.out + ".json").write_text(json.dumps(rows, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
