"""The "which should I use" bars: one metric at one size, best first.

With estimates a bar carries its confidence interval as a whisker (overlapping whiskers are a tie,
DESIGN rule 16), and a multimodal median is a hollow bar with a diamond at each mode and the modes
in its label (rule 15)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from .figure import (
    FLOOR_COLOUR,
    HATCH_NAMES,
    HATCHES,
    Chart,
    ChartWriter,
    Metric,
    legend,
    size_slug,
    value_axis,
)
from .report import Report
from .units import format_ns, format_size

INTERVAL_COLOUR = "#333333"


def _nearest_size(w: ChartWriter, pattern: str, target: int) -> int | None:
    if target == 0:  # notifications: no payload, no nearby size
        return 0 if any(0 in r.all_sizes(pattern) for r in w.reports) else None
    sizes = w.reports[0].sizes(pattern) or [s for r in w.reports for s in r.sizes(pattern)]
    return min(sizes, key=lambda s: abs(math.log2(s) - math.log2(target)), default=None)


def _ranked(w: ChartWriter, series: list[str], metric: Metric, size: int) -> list[str]:
    """Best first by the first report that has a value; series without any value last."""

    def key(name: str) -> float:
        for report in w.reports:
            value = report.value(name, metric.pattern, size, metric.key)
            if math.isfinite(value):
                return value if metric.lower_is_better else -value
        return math.inf

    return sorted(series, key=key)


def _reach(report: Report, name: str, metric: Metric, size: int) -> list[float]:
    """What one bar draws on the value axis: the median, the p99 tick, the interval, the modes."""
    values = [report.value(name, metric.pattern, size, k) for k in (metric.key, "rtt_p99_ns")]
    estimate = report.estimate(name, metric.pattern, size, metric.key)
    if estimate is not None:
        values += list(estimate.interval or ()) + [m.value for m in estimate.modes]
    return values


def _leader(report: Report, series: list[str], metric: Metric, size: int) -> str | None:
    """The report's best series at this size: a bar whose interval overlaps its interval ties
    with it."""
    values = {s: report.value(s, metric.pattern, size, metric.key) for s in series}
    values = {s: v for s, v in values.items() if math.isfinite(v)}
    better = min if metric.lower_is_better else max
    return better(values, key=values.get) if values else None


def _floor_value(w: ChartWriter, size: int) -> tuple[str, float]:
    for name in w.floor_series():
        value = w.reports[0].value(name, "latency", size, "rtt_p50_ns")
        if math.isfinite(value):
            return name, value
    return "", math.nan


def ranking_chart(w: ChartWriter, metric: Metric, target_size: int) -> Chart | None:
    """Bars of one metric at one size, best first; absent cells say why instead of a bar."""
    size = _nearest_size(w, metric.pattern, target_size)
    if size is None:
        return None
    floors = w.floor_series()
    series = [
        s
        for s in w.series()
        if s not in floors and any(r.cell(s, metric.pattern, size) for r in w.reports)
    ]
    extents = [
        v
        for r in w.reports
        for s in series
        for v in _reach(r, s, metric, size)
        if math.isfinite(v) and v > 0
    ]
    if not extents:
        return None
    latency = metric.pattern == "latency"
    floor_name, floor = _floor_value(w, size) if latency else ("", math.nan)
    left = 10 ** math.floor(math.log10(min(extents + ([floor] if math.isfinite(floor) else []))))
    series = _ranked(w, series, metric, size)
    what = "p50 round trip (RTT)" if latency else "throughput"
    at = "of a notification (no payload)" if size == 0 else f"at {format_size(size)}"
    title = f"Which should I use: {what} {at}, best first"
    n = len(w.reports)
    fig, (ax,) = w.figure(
        title, 11, 1.9 + 0.32 * len(series) * max(1.0, 0.75 * n), roles=HATCH_NAMES
    )
    bars = _Bars(ax, metric, size, left, n)
    for index, report in enumerate(w.reports):
        leader = _leader(report, series, metric, size)
        for row, name in enumerate(series):
            _bar(w, bars, index, name, row, leader)
    ax.set_yticks(range(len(series)), series, fontsize=8)
    ax.set_ylim(len(series) - 0.5, -0.5)
    ax.set_xscale("log")
    ax.set_xlim(left, max(extents) * 12)
    label = "round trip (RTT), p50" if latency else "throughput, payload bytes per second"
    value_axis(ax, Metric("", metric.pattern, label, metric.fmt, True), axis="x")
    ax.grid(True, axis="x", which="major", color="#e5e5e5", lw=0.8)
    handles = w.report_patches() if n > 1 else []
    estimates = [e for r in w.reports for s in series
                 if (e := r.estimate(s, metric.pattern, size, metric.key)) is not None]
    if any(e.interval for e in estimates):
        handles.append(Line2D([], [], color=INTERVAL_COLOUR, marker="|", ms=7, lw=1,
                              label="confidence interval of the median"))
    if any(e.multimodal for e in estimates):
        handles += [
            Patch(facecolor="white", edgecolor="black", label="multimodal: median of its modes"),
            Line2D([], [], color="black", marker="D", mfc="white", ls="none", ms=5,
                   label="a mode"),
        ]
    if latency:
        handles.append(Line2D([], [], color="black", marker="|", ls="none", ms=9, label="p99 RTT"))
    if math.isfinite(floor):
        ax.axvline(floor, color=FLOOR_COLOUR, ls="--", lw=1)
        handles.append(
            Line2D(
                [],
                [],
                color=FLOOR_COLOUR,
                ls="--",
                label=f"harness floor ({floor_name}): {format_ns(floor)}",
            )
        )
    if handles:
        legend(ax, handles)
    caption = (
        f"Median {what} at {format_size(size)} per mechanism, best at the top (log scale). "
        + (
            "Black tick: p99 RTT (none where the repetitions had fewer than 1,000 round trips to "
            "back one); dashed line: the harness floor (null channel). "
            if latency
            else ""
        )
        + ("Bar hatching names the report; the order follows the first report. " if n > 1 else "")
        + (
            "Whiskers: the confidence interval of each median; overlapping whiskers are a tie. "
            "A hollow bar is a median of several modes, each marked by a diamond and named in "
            "the label. "
            if estimates
            else ""
        )
        + "A mechanism that could not run this size says why instead of a bar."
        + "".join(
            f" {r.label + ': ' if n > 1 else ''}{r.basis()[:1].upper()}{r.basis()[1:]}."
            for r in w.reports
            if r.estimates
        )
    )
    return w.save(
        fig, f"ranking-{metric.pattern}-{size_slug(size)}", "Which should I use", title, caption
    )


@dataclass(frozen=True)
class _Bars:
    """Where the bars of one ranking chart go: one row per series, one bar per report."""

    ax: object
    metric: Metric
    size: int
    left: float  # bars start here on the log axis
    reports: int

    @property
    def height(self) -> float:
        return 0.8 / self.reports

    def y(self, row: int, report_index: int) -> float:
        return row + (report_index - (self.reports - 1) / 2) * self.height


def _bar(w: ChartWriter, bars: _Bars, report_index: int, name: str, row: int,
         leader: str | None) -> None:
    """One report's bar for one series, or the reason it has none; with estimates its interval,
    its modes, and whether it ties with the leader."""
    report, metric, size = w.reports[report_index], bars.metric, bars.size
    cell = report.cell(name, metric.pattern, size)
    if cell is None:
        return
    y, ax = bars.y(row, report_index), bars.ax
    value = report.value(name, metric.pattern, size, metric.key)
    if not math.isfinite(value):
        reason = f"{cell.status}: {cell.reason}"[:100]
        ax.text(
            bars.left * 1.1, y, reason, va="center", fontsize=7, color="#a00000", style="italic"
        )
        return
    hatch = HATCHES[report_index % len(HATCHES)]
    colour = w.palette.colour(name)
    estimate = report.estimate(name, metric.pattern, size, metric.key)
    multimodal = estimate is not None and estimate.multimodal
    # A median of modes is drawn hollow: it may lie between them, where no repetition was.
    fill = dict(color="white", edgecolor=colour, lw=1.2) if multimodal else dict(
        color=colour, edgecolor="white", lw=0)
    ax.barh(y, value - bars.left, left=bars.left, height=bars.height * 0.9, hatch=hatch, **fill)
    ms = min(9.0, 14 * bars.height)
    label = metric.fmt(value)
    if estimate is not None and estimate.interval:
        low, high = estimate.interval
        ax.errorbar(value, y, xerr=[[value - low], [high - value]], fmt="none",
                    ecolor=INTERVAL_COLOUR, elinewidth=1, capsize=ms / 3)
        label += f" [{estimate.interval_text(metric.fmt)}]"
        if leader not in (None, name) and estimate.overlaps(
                report.estimate(leader, metric.pattern, size, metric.key)):
            label += f", tie with {leader}"
    elif estimate is not None and estimate.value is not None:
        label += f" [no interval: {estimate.used} rep.]"
    if multimodal:
        modes = [m.value for m in estimate.modes]
        ax.plot(modes, [y] * len(modes), marker="D", mfc="white", mec="black", ms=ms * 0.6,
                ls="none")
    p99 = report.value(name, metric.pattern, size, "rtt_p99_ns")
    if metric.pattern == "latency" and math.isfinite(p99):
        ax.plot([p99], [y], marker="|", color="black", ms=ms, ls="none")
        label = f"{label}  (p99 {metric.fmt(p99)})"
    if multimodal:  # on a line of its own: the modes are as long as the rest
        label += f"\n{estimate.modes_text(metric.fmt, cause=False)}"
    end = max(v for v in _reach(report, name, metric, size) if math.isfinite(v))
    ax.text(end * 1.12, y, label, va="center", fontsize=7)
