"""The timeline as SVG: an axis, a suite row, one lane per container, fault windows across
the lanes they hit. Every moment carries `data-t` (microseconds since the report's start,
as the log viewer counts) so a click on it shows the log lines around it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

from .lanes import FaultWindow, Lane, Mark
from .runfolder import micros, utc_text
from .suite import SuiteView

LABEL_W, PLOT_W, AXIS_H, PAD = 200, 940, 26, 8
STATE_CLASS = ("created", "running", "healthy", "unhealthy", "paused", "exited")
STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400)


class Scale:
    def __init__(self, t0: int, t1: int) -> None:
        self.t0, self.span = t0, max(t1 - t0, 1)

    def x(self, t: int) -> float:
        ratio = min(max((t - self.t0) / self.span, 0.0), 1.0)
        return round(LABEL_W + ratio * PLOT_W, 1)

    def rel(self, t: int) -> int:
        return t - self.t0


def _tick_label(seconds: int) -> str:
    if seconds % 3600 == 0 and seconds:
        return f"+{seconds // 3600}h"
    if seconds % 60 == 0 and seconds:
        return f"+{seconds // 60}m"
    if seconds >= 60:
        return f"+{seconds // 60}m{seconds % 60:02d}s"
    return f"+{seconds}s"


def _axis(scale: Scale, height: int) -> list[str]:
    span_s = scale.span / 1e6
    step = next((s for s in STEPS if span_s / s <= 10), STEPS[-1])
    parts = []
    for i in range(int(span_s // step) + 1):
        x = scale.x(scale.t0 + i * step * 1_000_000)
        parts.append(f'<line class="tick" x1="{x}" y1="{AXIS_H - 6}" x2="{x}" y2="{height}"/>'
                     f'<text class="ticklabel" x="{x}" y="{AXIS_H - 10}">'
                     f"{_tick_label(i * step)}</text>")
    return parts


def _mark(mark: Mark, scale: Scale, y: float, row: int, container: str) -> str:
    x, mid = scale.x(mark.t), y + row / 2
    half = max(row / 2 - 3, 3)
    title = escape(f"{container}: {mark.detail} at {utc_text(mark.t)}")
    if mark.kind in ("crash", "oom"):
        shape = (f'<path d="M{x - half},{mid - half}L{x + half},{mid + half}M{x - half},'
                 f'{mid + half}L{x + half},{mid - half}"/>'
                 f'<text class="marklabel" x="{x + half + 3}" y="{mid + 4}">'
                 f"{escape(mark.label)}</text>")
    elif mark.kind == "start":
        shape = f'<path d="M{x},{mid - half}L{x + half},{mid + half}L{x - half},{mid + half}Z"/>'
    elif mark.kind == "restart":
        shape = (f'<circle cx="{x}" cy="{mid}" r="{half}"/>'
                 f'<text class="marklabel" x="{x + half + 2}" y="{mid + 4}">restart</text>')
    elif mark.kind == "unhealthy":
        shape = f'<path d="M{x},{mid - half}L{x + half},{mid}L{x},{mid + half}L{x - half},{mid}Z"/>'
    else:  # create, healthy, kill, die, pause: a tick
        shape = f'<line x1="{x}" y1="{y + 2}" x2="{x}" y2="{y + row - 2}"/>'
    extra = " inferred" if mark.inferred else ""
    return (f'<g class="mark {mark.kind}{extra}" data-t="{scale.rel(mark.t)}" '
            f'data-c="{escape(container)}"><title>{title}</title>{shape}</g>')


def _suite_row(suite: SuiteView, scale: Scale, y: float, row: int) -> list[str]:
    parts = [f'<text class="lanelabel suite" x="{PAD}" y="{y + row - 4}">suite</text>']
    if suite.started is not None:
        end = suite.finished if suite.finished is not None else scale.t0 + scale.span
        x1, x2 = scale.x(suite.started), scale.x(end)
        title = escape(f"suite {suite.status}: {utc_text(suite.started)} - {utc_text(end)}")
        parts.append(f'<rect class="suitebar {suite.status.split()[0]}" x="{x1}" y="{y + 3}" '
                     f'width="{max(x2 - x1, 1.5)}" height="{row - 6}" '
                     f'data-t="{scale.rel(suite.started)}"><title>{title}</title></rect>')
    for test in suite.go.tests if suite.go else []:
        t = micros(test.ended) if test.status == "fail" else None
        if t is not None:
            parts.append(_mark(Mark(t, "testfail", "", f"{test.name} failed"), scale, y, row,
                               "suite"))
    return parts


def _fault(window: FaultWindow, scale: Scale, rows: Mapping[str, float], row: int) -> list[str]:
    ys = sorted(rows[c] for c in window.containers if c in rows)
    if not ys:
        return []
    x1, x2 = scale.x(window.start), scale.x(window.end)
    runs: list[tuple[float, float]] = []
    for y in ys:  # contiguous lanes share one rectangle
        if runs and abs(runs[-1][1] - y) < 0.5:
            runs[-1] = (runs[-1][0], y + row)
        else:
            runs.append((y, y + row))
    state = "still active at collection" if window.open else f"until {utc_text(window.end)}"
    title = escape(f"fault {window.fault} ({window.id}) on {', '.join(window.targets) or 'all'}"
                   f": {utc_text(window.start)} {state}; {window.detail}")
    parts = [f'<g class="fault" data-t="{scale.rel(window.start)}" '
             f'data-fault="{escape(window.id)}"><title>{title}</title>']
    parts += [f'<rect x="{x1}" y="{top}" width="{max(x2 - x1, 2)}" height="{bottom - top}"/>'
              for top, bottom in runs]
    parts.append(f'<text class="faultlabel" x="{x1 + 2}" y="{runs[0][0] + 9}">'
                 f"{escape(window.fault)}</text></g>")
    return parts


def timeline_svg(lanes: Sequence[Lane], faults: Sequence[FaultWindow], suite: SuiteView,
                 t0: int, t1: int) -> str:
    scale = Scale(t0, t1)
    row = 18 if len(lanes) <= 40 else 12
    rows = {lane.container: AXIS_H + (i + 1) * row for i, lane in enumerate(lanes)}
    height = AXIS_H + (len(lanes) + 1) * row + PAD
    width = LABEL_W + PLOT_W + PAD * 4
    parts = [f'<svg id="timeline" xmlns="http://www.w3.org/2000/svg" width="{width}" '
             f'height="{height}" viewBox="0 0 {width} {height}" data-x0="{LABEL_W}" '
             f'data-w="{PLOT_W}" data-span="{scale.span}" class="rows{row}">']
    parts += _axis(scale, height)
    for window in faults:  # under the lanes: the moments inside a window stay clickable
        parts += _fault(window, scale, rows, row)
    parts += _suite_row(suite, scale, AXIS_H, row)
    for i, lane in enumerate(lanes):
        y = rows[lane.container]
        parts.append(f'<g class="lane {escape(lane.role)}" data-c="{escape(lane.container)}">'
                     f'<rect class="lanebg{" odd" if i % 2 else ""}" x="{LABEL_W}" y="{y}" '
                     f'width="{PLOT_W}" height="{row}"/>'
                     f'<text class="lanelabel" x="{PAD}" y="{y + row - 4}">'
                     f"<title>{escape(lane.container)}: {escape(lane.ending)}</title>"
                     f"{escape(lane.container)}</text>")
        for seg in lane.segments:
            x1, x2 = scale.x(seg.start), scale.x(seg.end)
            parts.append(f'<rect class="seg {seg.state}" x="{x1}" y="{y + 3}" '
                         f'width="{max(x2 - x1, 0.5)}" height="{row - 6}"/>')
        parts += [_mark(m, scale, y, row, lane.container) for m in lane.marks]
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)
