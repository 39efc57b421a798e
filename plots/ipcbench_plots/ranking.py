"""The "which should I use" bars: one metric at one size, best first."""

from __future__ import annotations

import math
from dataclasses import dataclass

from matplotlib.lines import Line2D

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
from .units import format_ns, format_size


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
        for v in (
            r.value(s, metric.pattern, size, metric.key),
            r.value(s, metric.pattern, size, "rtt_p99_ns"),
        )
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
    for index in range(n):
        for row, name in enumerate(series):
            _bar(w, bars, index, name, row)
    ax.set_yticks(range(len(series)), series, fontsize=8)
    ax.set_ylim(len(series) - 0.5, -0.5)
    ax.set_xscale("log")
    ax.set_xlim(left, max(extents) * 12)
    label = "round trip (RTT), p50" if latency else "throughput, payload bytes per second"
    value_axis(ax, Metric("", metric.pattern, label, metric.fmt, True), axis="x")
    ax.grid(True, axis="x", which="major", color="#e5e5e5", lw=0.8)
    handles = w.report_patches() if n > 1 else []
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
            "Black tick: p99 RTT; dashed line: the harness floor (null channel). "
            if latency
            else ""
        )
        + ("Bar hatching names the report; the order follows the first report. " if n > 1 else "")
        + "A mechanism that could not run this size says why instead of a bar."
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


def _bar(w: ChartWriter, bars: _Bars, report_index: int, name: str, row: int) -> None:
    """One report's bar for one series, or the reason it has none."""
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
    ax.barh(
        y,
        value - bars.left,
        left=bars.left,
        height=bars.height * 0.9,
        color=w.palette.colour(name),
        hatch=hatch,
        edgecolor="white",
        lw=0,
    )
    label, end = metric.fmt(value), value
    p99 = report.value(name, metric.pattern, size, "rtt_p99_ns")
    if metric.pattern == "latency" and math.isfinite(p99):
        ax.plot([p99], [y], marker="|", color="black", ms=min(9.0, 14 * bars.height), ls="none")
        label, end = f"{label}  (p99 {metric.fmt(p99)})", max(value, p99)
    ax.text(end * 1.12, y, label, va="center", fontsize=7)
