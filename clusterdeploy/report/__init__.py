"""`report.html`: one self-contained page that says what happened in a run, from its run
folder (docker/logs.py writes the folder; `run`, teardown and `logs` then write the report,
`clusterdeploy report [RUN_DIR]` writes it again).

The package reads files and writes one; it imports nothing of the pipeline, so every stage
that collects logs can write a report:

    runfolder   reading the folder's files without trusting them
    gotest      `go test -json` events from a Go suite's output (a port of test2json)
    suite       the suite: where, how it ended, its tests
    lanes       the timeline as values: container lanes, fault windows
    logview     the log lines as compact columns for the page's viewer
    model       all of it as one value, and the sentences that say what happened
    svg         the timeline drawn
    render      the page: template.html filled in
"""

from __future__ import annotations

import os
from pathlib import Path

from .model import build_report
from .render import render

REPORT_NAME = "report.html"


def write_report(run_dir: Path) -> Path:
    """(Re)write `<run_dir>/report.html`; its path."""
    html = render(build_report(run_dir))
    target = run_dir / REPORT_NAME
    temporary = run_dir / f".{REPORT_NAME}.{os.getpid()}"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(html)
    os.replace(temporary, target)
    return target


def try_write_report(run_dir: Path) -> str:
    """`write_report` for the end of a run, whose exit code must survive a report that cannot
    be written: the path, or why there is none."""
    try:
        return str(write_report(run_dir))
    except Exception as exc:  # a bug in the report must not turn a run's result into a crash
        return f"not written ({type(exc).__name__}: {exc})"
