"""Line charts: a metric against message size (throughput, RTT, CPU) and the RTT spectrum."""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass

from matplotlib.lines import Line2D
from matplotlib.ticker import FixedFormatter, FixedLocator, NullLocator

from .figure import (
    CPU_LATENCY,
    CPU_THROUGHPUT,
    LATENCY,
    REFERENCE_COLOUR,
    THROUGHPUT,
    Chart,
    ChartWriter,
    Metric,
    direct_labels,
    legend,
    size_axis,
    size_markers,
    size_slug,
    slug,
    value_axis,
)
from .report import CALIBRATION_FAMILY
from .units import format_ns, format_rate, format_size

GAPS = "Gaps: the benchmark was skipped or failed there (the table below says why), never zero."
NOT_DRAWN_CHARS = 90
NOT_DRAWN_WIDTH = 36  # characters a line of such an entry in the legend
MARKS = "Dotted verticals: PIPE_BUF and the default pipe capacity read from the machine."


def draw_metric_vs_size(
    w: ChartWriter, ax, series: list[str], metric: Metric, ends: dict | None = None
) -> list[str]:
    """One line per series and report (NaN where a cell is absent, so lines break there).

    Returns the series that have at least one value; ends, when given, gets each one's last
    point, name -> (size, value, colour), for direct_labels.
    """
    drawn = []
    all_sizes = set()
    for index, report in enumerate(w.reports):
        for name in series:
            # Only the sizes this series ran: a size only others ran (signal's 8 B) is no gap.
            sizes = [s for s in report.sizes(metric.pattern) if report.cell(name, metric.pattern, s)]
            values = [report.value(name, metric.pattern, s, metric.key) for s in sizes]
            if all(math.isnan(v) for v in values):
                continue
            all_sizes.update(sizes)
            colour, ls = w.palette.colour(name), w.line_style(index)
            floor = report.series_family.get(name) == CALIBRATION_FAMILY
            ax.plot(
                sizes,
                values,
                ls=ls,
                color=colour,
                marker=w.palette.marker(name),
                ms=4,
                lw=1.0 if floor else 1.5,
                zorder=1 if floor else 2,
            )
            if metric.band_key:
                upper = [report.value(name, metric.pattern, s, metric.band_key) for s in sizes]
                ax.fill_between(sizes, values, upper, color=colour, alpha=0.12, lw=0)
            drawn.append(name)
            last = max((s, v) for s, v in zip(sizes, values) if math.isfinite(v))
            if ends is not None and (name not in ends or last[0] > ends[name][0]):
                ends[name] = (last[0], last[1], colour)
    if not drawn:
        return []
    size_axis(ax, sorted(all_sizes))
    value_axis(ax, metric)
    size_markers(ax, w.reports)
    ax.grid(True, which="major", color="#e5e5e5", lw=0.8)
    return list(dict.fromkeys(drawn))


def undrawn(w: ChartWriter, series: list[str], metric: Metric) -> dict[str, str]:
    """Series that ran the metric's pattern but have no value to draw, each with a reason
    (the first cell's status and reason): so a skipped or unavailable id is named, not lost."""
    missing = {}
    for name in series:
        cells = [
            c
            for r in w.reports
            for s in r.all_sizes(metric.pattern)
            if (c := r.cell(name, metric.pattern, s)) is not None
        ]
        if not cells or any(math.isfinite(c.values.get(metric.key, math.nan)) and c.ok
                            for c in cells):
            continue
        bad = next((c for c in cells if not c.ok), None)
        missing[name] = f"{bad.status}: {bad.reason}" if bad else f"no {metric.key}"
    return missing


def undrawn_handles(missing: dict[str, str]) -> list[Line2D]:
    handles = []
    for name, why in missing.items():
        label = f"{name}: not drawn, {why}"
        if len(label) > NOT_DRAWN_CHARS:
            label = label[: NOT_DRAWN_CHARS - 1] + "…"
        # In lines as wide as a series' name and its marker, so the legend stays narrow.
        label = "\n".join(textwrap.wrap(label, NOT_DRAWN_WIDTH, break_on_hyphens=False))
        handles.append(Line2D([], [], ls="none", label=label))
    return handles


def _memcpy_lines(w: ChartWriter, ax) -> list[Line2D]:
    handles = []
    for index, report in enumerate(w.reports):
        bandwidth = report.section("calibration").get("memcpy_bytes_per_second")
        if not isinstance(bandwidth, (int, float)) or bandwidth <= 0:
            continue
        ls = w.line_style(index)
        ax.axhline(bandwidth, color=REFERENCE_COLOUR, ls=ls, lw=1.2, zorder=0)
        suffix = f" ({report.label})" if w.overlay else ""
        handles.append(
            Line2D(
                [],
                [],
                color=REFERENCE_COLOUR,
                ls=ls,
                label=f"memcpy 1 MiB, hot: {format_rate(bandwidth)}{suffix}",
            )
        )
    return handles


@dataclass(frozen=True)
class SizeChart:
    """A family of "metric vs size" charts: one overview and one per mechanism family."""

    stem: str
    section: str
    title: str
    caption: str
    metrics: tuple[Metric, ...]
    with_floor: bool = False
    with_memcpy: bool = False


SIZE_CHARTS = (
    SizeChart(
        "throughput",
        "Throughput vs message size",
        "Throughput vs message size",
        "Median payload throughput over repetitions, one-way stream, log-log. "
        + MARKS
        + " Horizontal line: hot 1 MiB memcpy bandwidth of the machine. "
        + GAPS,
        (THROUGHPUT,),
        with_memcpy=True,
    ),
    SizeChart(
        "latency",
        "Latency vs message size",
        "Round-trip latency (RTT) vs message size",
        "Median over repetitions of the p50 round trip (RTT, ping-pong of n bytes each way); "
        "the shaded band reaches the p99 RTT. Grey: the harness floor (null channel, no IPC). "
        + MARKS
        + " "
        + GAPS,
        (LATENCY,),
        with_floor=True,
    ),
    SizeChart(
        "cpu",
        "CPU cost per message",
        "CPU cost per message vs message size",
        "User+sys CPU time of both peers per message (per round trip in ping-pong), median "
        "over repetitions. Busy-polling variants spend CPU while they wait; blocking ones "
        "sleep. " + MARKS + " " + GAPS,
        (CPU_LATENCY, CPU_THROUGHPUT),
    ),
)


def size_chart(w: ChartWriter, spec: SizeChart, family: str | None) -> Chart | None:
    """The overview (family None) or one family's chart of spec; None when nothing has a value
    (missing_note then says why). Series of the scope without any value are named in the legend
    with their reason."""
    series = w.series(family)
    if family is not None and spec.with_floor:
        series += w.floor_series()
    scope = family or "all mechanisms"
    title = f"{spec.title} — {scope}"
    width = 11 if family is None else 10
    # A legend in two columns (figure.legend: over 26 entries) takes about 4 inches more, which
    # would otherwise come out of the axes.
    if len(series) + len(spec.metrics) > 26:
        width += 4
    fig, axes = w.figure(title, width + 4 * (len(spec.metrics) - 1), 6.2, ncols=len(spec.metrics))
    drawn = []
    ends: list[dict] = []
    for ax, metric in zip(axes, spec.metrics):
        ends.append({})
        drawn += draw_metric_vs_size(w, ax, series, metric, ends[-1])
        if len(spec.metrics) > 1:
            ax.set_title(
                "ping-pong (latency)" if metric.pattern == "latency" else "stream (throughput)",
                fontsize=10,
            )
    if not drawn:
        return None
    handles = [w.palette.handle(s) for s in dict.fromkeys(drawn)]
    if spec.with_memcpy:
        handles += _memcpy_lines(w, axes[0])
    missing: dict[str, str] = {}
    for metric in spec.metrics:
        for name, why in undrawn(w, w.series(family), metric).items():
            if name not in drawn:
                missing.setdefault(name, why)
    legend(axes[-1], handles + undrawn_handles(missing) + w.report_handles())
    for ax, points in zip(axes, ends):
        direct_labels(ax, points)
    stem = f"{spec.stem}-{'overview' if family is None else slug(family)}"
    return w.save(fig, stem, spec.section, title, spec.caption)


def missing_note(w: ChartWriter, spec: SizeChart, family: str) -> str:
    """Why a family has no chart of spec: each series and its reason; "" if it ran nothing."""
    missing: dict[str, str] = {}
    for metric in spec.metrics:
        for name, why in undrawn(w, w.series(family), metric).items():
            missing.setdefault(name, why)
    if not missing:
        return ""
    listed = "; ".join(f"{name} {why}" for name, why in missing.items())
    return f"No {spec.stem} chart for {family}: nothing has a value ({listed})."


def _percentile_x(percentile: float) -> float:
    return 1.0 / (1.0 - percentile / 100.0)


def _spectrum_lines(w: ChartWriter, size: int) -> list[tuple[int, str, list, float]]:
    """(report index, series, [(percentile, RTT)] below 100, max RTT or NaN) per drawable cell."""
    lines = []
    for index, report in enumerate(w.reports):
        for name in report.series():
            cell = report.cell(name, "latency", size)
            if cell is None or not cell.ok or not cell.percentiles:
                continue
            points = sorted((p, v) for p, v in cell.percentiles.items() if p < 100)
            if points:
                lines.append((index, name, points, cell.percentiles.get(100.0, math.nan)))
    return lines


def spectrum_chart(w: ChartWriter, size: int) -> Chart | None:
    """RTT against percentile on a 1/(1-p) axis (HdrHistogram style), max as its own point."""
    lines = _spectrum_lines(w, size)
    if not lines:
        return None
    title = f"Round-trip latency (RTT) percentile spectrum at {format_size(size)}"
    fig, (ax,) = w.figure(title, 11, 6.2)
    percentiles = sorted({p for _, _, points, _ in lines for p, _ in points})
    max_x = _percentile_x(percentiles[-1]) * 10
    for index, name, points, maximum in lines:
        colour, marker, ls = w.palette.colour(name), w.palette.marker(name), w.line_style(index)
        xs, ys = [_percentile_x(p) for p, _ in points], [v for _, v in points]
        ax.plot(xs, ys, color=colour, marker=marker, ms=4, ls=ls)
        if math.isfinite(maximum):
            ax.plot([xs[-1], max_x], [ys[-1], maximum], color=colour, ls=":", lw=0.8)
            ax.plot([max_x], [maximum], color=colour, marker=marker, ms=6, ls="none")
    ticks = [
        (_percentile_x(p), _percentile_label(p))
        for p in percentiles
        if p in (0, 50, 90, 99, 99.9, 99.99)
    ]
    ticks.append((max_x, "max"))
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(FixedLocator([x for x, _ in ticks]))
    ax.xaxis.set_major_formatter(FixedFormatter([label for _, label in ticks]))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.tick_params(axis="x", labelsize=8)
    ax.set_xlim(0.8, max_x * 1.6)
    ax.set_xlabel("percentile (axis scaled as 1/(1−p): each step right is ten times rarer)")
    value_axis(ax, Metric("", "latency", "round trip (RTT)", format_ns, True))
    ax.grid(True, which="major", color="#e5e5e5", lw=0.8)
    drawn = dict.fromkeys(name for _, name, _, _ in lines)
    legend(ax, [w.palette.handle(s) for s in drawn] + w.report_handles())
    caption = (
        f"Round-trip time (RTT) at each percentile of every round trip at {format_size(size)}, "
        "from the report's histogram (median over repetitions); min at the left, max as a "
        "separate point at the right (dotted). Flat lines mean predictable latency; a late "
        "rise is the tail."
    )
    return w.save(fig, f"spectrum-{size_slug(size)}", "Latency percentile spectrum", title, caption)


def _percentile_label(p: float) -> str:
    return "min (p0)" if p == 0 else f"p{p:g}"
