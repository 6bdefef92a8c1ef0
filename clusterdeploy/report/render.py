"""The report as one self-contained HTML file: the template (package data, with its CSS and
JavaScript inline) filled with sections rendered here and the log lines as JSON.

Everything a person reads without scrolling (what happened, the cluster, the timeline, the
suite) is HTML and SVG written here, so it shows with JavaScript off; the log viewer is the
template's script over the embedded JSON (it draws only the rows on screen)."""

from __future__ import annotations

import json
import re
from html import escape
from importlib import resources

from .model import Report
from .runfolder import micros, utc_text
from .suite import SuiteView
from .svg import timeline_svg

SLOT = re.compile(r"<!--@(\w+)@-->")


def template() -> str:
    return resources.files(__package__).joinpath("template.html").read_text(encoding="utf-8")


def _table(headers: list[str], rows: list[list[str]], css: str = "") -> str:
    head = "".join(f"<th>{h}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>"
                   for row in rows)
    return f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}s"


def header(report: Report) -> str:
    items = "".join(f"<li>{escape(line)}</li>" for line in report.headline())
    notes = "".join(f'<p class="note">{escape(n)}</p>' for n in report.notes)
    return (f'<h1 id="title">Cluster {escape(report.cluster)}: run '
            f"{escape(report.run_dir.name)}</h1>"
            f'<p class="sub">host {escape(report.host)} &middot; {utc_text(report.t0)} to '
            f"{utc_text(report.t1)} ({(report.t1 - report.t0) / 1e6:.1f}s)</p>"
            f'<ul id="what-happened">{items}</ul>{notes}')


def _state_cell(state: str) -> str:
    bad = state.startswith(("exited (", "OOM")) and state != "exited (0)"
    return f'<span class="state{" bad" if bad else ""}">{escape(state)}</span>'


def cluster_section(report: Report) -> str:
    rows = [[f'<a href="#logs" class="showlogs" data-c="{escape(r.name)}">{escape(r.name)}</a>',
             escape(r.member), escape(r.hostname), escape(r.addresses),
             escape(r.ports), escape(r.image), f"<code>{escape(r.image_hash)}</code>",
             _state_cell(r.state),
             escape(r.health), str(r.restarts), f"{r.log_lines:,}"]
            for r in report.rows]
    return _table(["container", "node", "hostname", "address", "published ports",
                   "image", "image hash", "state", "health", "restarts", "log lines"], rows,
                  "cluster")


def timeline_section(report: Report) -> str:
    svg = timeline_svg(report.lanes, report.faults, report.suite, report.t0, report.t1)
    faults = ""
    if report.faults:
        rows = [[f'<a href="#logs" class="jump" data-t="{w.start - report.t0}">'
                 f"{escape(utc_text(w.start))}</a>", escape(w.fault), escape(w.id),
                 escape(", ".join(w.targets) or "all"),
                 "still active" if w.open else f"{(w.end - w.start) / 1e6:.1f}s",
                 escape(w.detail)] for w in report.faults]
        faults = "<h3>Faults</h3>" + _table(
            ["start", "fault", "id", "targets", "duration", "detail"], rows, "faults")
    return f'<div class="svgbox">{svg}</div>{faults}'


def _test_rows(report: Report, suite: SuiteView) -> list[list[str]]:
    rows = []
    for test in suite.failing_first():
        ended = micros(test.ended)
        link = (f'<a href="#logs" class="jump" data-t="{ended - report.t0}">logs</a>'
                if ended is not None else "")
        name = f'<span class="tname" style="padding-left:{test.depth * 14}px">' \
               f"{escape(test.name)}</span>"
        if test.status == "fail" and test.output:
            name += f'<pre class="testout">{escape("".join(test.output))}</pre>'
        rows.append([f'<span class="badge {test.status}">{test.status}</span>', name,
                     _seconds(test.elapsed), link])
    return rows


def suite_section(report: Report) -> str:
    suite = report.suite
    if not suite.ran:
        return '<p id="suite-status" class="status none">No suite ran in this run.</p>'
    took = (f", {(suite.finished - suite.started) / 1e6:.1f}s"
            if suite.started is not None and suite.finished is not None else "")
    code = "-" if suite.exit_code is None else str(suite.exit_code)
    parts = [f'<p id="suite-status" class="status {suite.status.split()[0]}">Suite '
             f"{escape(suite.status)} (exit code {code}{took})</p>",
             f"<p class=\"sub\">in {escape(suite.container or '?')}: "
             f"<code>{escape(' '.join(suite.command))}</code></p>"]
    if suite.go is not None:
        counts = ", ".join(f"{suite.go.count(s)} {word}" for s, word in
                           (("fail", "failed"), ("pass", "passed"), ("skip", "skipped"),
                            ("run", "unfinished")) if suite.go.count(s))
        parts.append(f"<p>Go tests: {counts}</p>")
        parts.append(_table(["result", "test", "duration", ""], _test_rows(report, suite),
                            "tests"))
        parts.append(f"<details><summary>Full output ({suite.output.count(chr(10))} lines)"
                     f'</summary><pre class="output">{escape(suite.output)}</pre></details>')
    else:
        parts.append(f'<pre class="output">{escape(suite.output) or "(no output)"}</pre>')
    return "".join(parts)


def page_data(report: Report) -> str:
    """The JSON the page's script reads, safe inside a <script> element (every `<` escaped)."""
    data = {"t0": report.t0, "span": report.t1 - report.t0, "logs": report.logs.as_json()}
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")


def render(report: Report) -> str:
    slots = {
        "title": escape(f"{report.cluster}: {report.run_dir.name}"),
        "header": header(report),
        "cluster": cluster_section(report),
        "timeline": timeline_section(report),
        "suite": suite_section(report),
        "data": page_data(report),
    }
    return SLOT.sub(lambda found: slots[found.group(1)], template())
