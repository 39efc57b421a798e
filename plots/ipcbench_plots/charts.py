"""The charts: each function draws one figure from one or several reports, saves it as SVG and PNG
and returns a Chart describing it, or None when the reports hold no data for it.

Several reports are overlaid: colour and marker name the series (benchmark id), the line style
names the report.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import matplotlib

matplotlib.use("Agg")

from matplotlib.colors import LogNorm  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch, Rectangle  # noqa: E402
from matplotlib.ticker import FixedFormatter, FixedLocator, FuncFormatter, LogLocator, NullFormatter, NullLocator  # noqa: E402

from .compare import CompareResults  # noqa: E402
from .report import CALIBRATION_FAMILY, Report  # noqa: E402
from .units import KIB, MIB, format_ns, format_rate, format_size, size_ticks  # noqa: E402

LINE_STYLES = (("solid", "-"), ("dashed", "--"), ("dotted", ":"), ("dash-dot", "-."))
HATCHES = ("", "//", "..", "xx")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
FLOOR_COLOUR = "#7f7f7f"
REFERENCE_COLOUR = "#555555"
TITLE_PT = 13
SUBTITLE_PT = 8.5
SAVE_DPI = 100


@dataclass(frozen=True)
class Chart:
    stem: str  # file name without extension; the SVG and PNG share it
    section: str
    title: str
    caption: str


@dataclass(frozen=True)
class Metric:
    key: str  # counter name in the report
    pattern: str
    label: str  # value axis label, with its unit
    fmt: Callable[[float], str]
    lower_is_better: bool
    band_key: str | None = None  # upper edge of a shaded band


THROUGHPUT = Metric(
    "bytes_per_second", "throughput",
    "throughput, payload bytes per second\n(one-way stream; 1 GB/s = 10⁹ B/s)", format_rate, False)
LATENCY = Metric(
    "rtt_p50_ns", "latency", "round trip (RTT), p50 line and p50–p99 band", format_ns, True,
    band_key="rtt_p99_ns")
LATENCY_P99 = Metric("rtt_p99_ns", "latency", "round trip (RTT), p99", format_ns, True)
CPU_LATENCY = Metric(
    "cpu_ns_per_message", "latency", "CPU time per round trip\n(user+sys, both peers)", format_ns, True)
CPU_THROUGHPUT = Metric(
    "cpu_ns_per_message", "throughput", "CPU time per message\n(user+sys, both peers)", format_ns, True)

GAPS = "Gaps: the benchmark was skipped or failed there (the table below says why), never zero."
MARKS = "Dotted verticals: PIPE_BUF and the default pipe capacity read from the machine."


def size_slug(size: int) -> str:
    return format_size(size).replace(" ", "")


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


class Palette:
    """A stable colour and marker per series across every chart of one render."""

    def __init__(self, reports: list[Report]):
        self._style = {}
        index = 0
        colours = matplotlib.colormaps["tab10"].colors
        for report in reports:
            for series, family in report.series_family.items():
                if series in self._style:
                    continue
                if family == CALIBRATION_FAMILY:
                    self._style[series] = (FLOOR_COLOUR, ".")
                    continue
                self._style[series] = (colours[index % 10], MARKERS[(index // 10) % len(MARKERS)])
                index += 1

    def colour(self, series: str):
        return self._style[series][0]

    def marker(self, series: str) -> str:
        return self._style[series][1]

    def handle(self, series: str) -> Line2D:
        return Line2D([], [], color=self.colour(series), marker=self.marker(series), ms=5, label=series)


class ChartWriter:
    """Shared state of one render: the reports, their palette, the output folder."""

    def __init__(self, reports: list[Report], out_dir: Path):
        self.reports = reports
        self.out_dir = out_dir
        self.palette = Palette(reports)
        self._stems: set[str] = set()

    @property
    def overlay(self) -> bool:
        return len(self.reports) > 1

    def families(self) -> list[str]:
        names = [f for r in self.reports for f in r.families if f != CALIBRATION_FAMILY]
        return list(dict.fromkeys(names))

    def series(self, family: str | None = None) -> list[str]:
        """Series of every report, grouped by family, the calibration floor last."""
        names = dict.fromkeys(s for r in self.reports for s in r.series(family))
        order = self.families() + [CALIBRATION_FAMILY]
        family_of = {s: f for r in self.reports for s, f in r.series_family.items()}
        return sorted(names, key=lambda s: order.index(family_of[s]) if family_of[s] in order else len(order))

    def floor_series(self) -> list[str]:
        return self.series(CALIBRATION_FAMILY)

    def line_style(self, report_index: int) -> str:
        return LINE_STYLES[report_index % len(LINE_STYLES)][1]

    def subtitle(self) -> list[str]:
        if not self.overlay:
            report = self.reports[0]
            return [f"{report.machine_line()} · median of {report.repetitions()} repetition(s)"]
        return [
            f"{LINE_STYLES[i % len(LINE_STYLES)][0]}: {r.label} — {r.machine_line()}"
            for i, r in enumerate(self.reports)
        ]

    def report_handles(self) -> list[Line2D]:
        if not self.overlay:
            return []
        return [
            Line2D([], [], color="black", ls=self.line_style(i), label=f"report: {r.label}")
            for i, r in enumerate(self.reports)
        ]

    def report_patches(self) -> list[Patch]:
        """Legend entries naming each report by the hatching of its bars."""
        return [
            Patch(facecolor="#bbbbbb", hatch=HATCHES[i % len(HATCHES)], label=f"report: {r.label}")
            for i, r in enumerate(self.reports)
        ]

    def figure(self, title: str, width: float, height: float, ncols: int = 1):
        fig = Figure(figsize=(width, height), layout="constrained")
        _titles(fig, title, self.subtitle())
        axes = fig.subplots(1, ncols, squeeze=False)[0]
        return fig, list(axes)

    def save(self, fig: Figure, stem: str, section: str, title: str, caption: str) -> Chart:
        stem = self._unique(stem)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        fig.savefig(self.out_dir / f"{stem}.svg", metadata={"Date": None})
        fig.savefig(self.out_dir / f"{stem}.png", dpi=SAVE_DPI)
        return Chart(stem, section, title, caption)

    def _unique(self, stem: str) -> str:
        candidate, n = stem, 2
        while candidate in self._stems:
            candidate, n = f"{stem}-{n}", n + 1
        self._stems.add(candidate)
        return candidate


def _titles(fig: Figure, title: str, subtitle: list[str]) -> None:
    """A bold title with the machine line(s) under it.

    Constrained layout only reserves room for the suptitle, so the suptitle carries blank lines
    as tall as the subtitle, which is drawn into that room.
    """
    blank_lines = math.ceil(len(subtitle) * SUBTITLE_PT / TITLE_PT)
    fig.suptitle(title + "\n" * blank_lines, fontsize=TITLE_PT, fontweight="bold")
    top = 0.98 - (TITLE_PT * 1.3) / (fig.get_figheight() * 72)
    fig.text(0.5, top, "\n".join(subtitle), ha="center", va="top", fontsize=SUBTITLE_PT,
             color="#444444", linespacing=1.15)


def _size_axis(ax, sizes: list[int]) -> None:
    ax.set_xscale("log", base=2)
    ax.xaxis.set_major_locator(FixedLocator(size_ticks(min(sizes), max(sizes))))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: format_size(v)))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xlim(min(sizes) / 1.4, max(sizes) * 1.4)
    ax.set_xlabel("message size (bytes, log scale)")
    ax.tick_params(axis="x", labelsize=8, labelrotation=30)


def _value_axis(ax, metric: Metric, axis: str = "y") -> None:
    """A log axis labelled in the metric's unit; minor ticks get labels when it spans little."""
    which = ax.yaxis if axis == "y" else ax.xaxis
    (ax.set_yscale if axis == "y" else ax.set_xscale)("log")
    which.set_major_formatter(FuncFormatter(lambda v, _: metric.fmt(v)))
    low, high = ax.get_ylim() if axis == "y" else ax.get_xlim()
    if high / low < 30:
        which.set_minor_locator(LogLocator(subs=(2.0, 5.0)))
        which.set_minor_formatter(FuncFormatter(lambda v, _: metric.fmt(v)))
    else:
        which.set_minor_formatter(NullFormatter())
    (ax.set_ylabel if axis == "y" else ax.set_xlabel)(metric.label)
    ax.tick_params(axis=axis, which="both", labelsize=8)


def _size_markers(ax, reports: list[Report]) -> None:
    """Dotted verticals at PIPE_BUF and the default pipe capacity (the first report's values)."""
    low, high = ax.get_xlim()
    report = reports[0]
    marks = (
        (report.limit("pipe_buf", 4 * KIB), "PIPE_BUF"),
        (report.limit("pipe_default_size", 64 * KIB), "pipe capacity"),
    )
    for size, name in marks:
        if low <= size <= high:
            ax.axvline(size, color="#999999", ls=":", lw=1, zorder=0)
            ax.text(size, 0.985, f"{name} {format_size(size)}", transform=ax.get_xaxis_transform(),
                    rotation=90, ha="center", va="top", fontsize=7, color="#555555",
                    bbox=dict(facecolor="white", edgecolor="none", alpha=0.85, pad=1.5))


def _legend(ax, handles: list, fontsize: float = 8) -> None:
    ncol = 2 if len(handles) > 26 else 1
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=fontsize,
              frameon=False, ncol=ncol, handlelength=2.6)


def draw_metric_vs_size(w: ChartWriter, ax, series: list[str], metric: Metric) -> list[str]:
    """One line per series and report (NaN where a cell is absent, so lines break there).

    Returns the series that have at least one value.
    """
    drawn = []
    all_sizes = set()
    for index, report in enumerate(w.reports):
        sizes = report.sizes(metric.pattern)
        for name in series:
            values = [report.value(name, metric.pattern, s, metric.key) for s in sizes]
            if all(math.isnan(v) for v in values):
                continue
            all_sizes.update(sizes)
            colour, ls = w.palette.colour(name), w.line_style(index)
            floor = report.series_family.get(name) == CALIBRATION_FAMILY
            ax.plot(sizes, values, ls=ls, color=colour, marker=w.palette.marker(name), ms=4,
                    lw=1.0 if floor else 1.5, zorder=1 if floor else 2)
            if metric.band_key:
                upper = [report.value(name, metric.pattern, s, metric.band_key) for s in sizes]
                ax.fill_between(sizes, values, upper, color=colour, alpha=0.12, lw=0)
            drawn.append(name)
    if not drawn:
        return []
    _size_axis(ax, sorted(all_sizes))
    _value_axis(ax, metric)
    _size_markers(ax, w.reports)
    ax.grid(True, which="major", color="#e5e5e5", lw=0.8)
    return list(dict.fromkeys(drawn))


def _memcpy_lines(w: ChartWriter, ax) -> list[Line2D]:
    handles = []
    for index, report in enumerate(w.reports):
        bandwidth = report.section("calibration").get("memcpy_bytes_per_second")
        if not isinstance(bandwidth, (int, float)) or bandwidth <= 0:
            continue
        ls = w.line_style(index)
        ax.axhline(bandwidth, color=REFERENCE_COLOUR, ls=ls, lw=1.2, zorder=0)
        suffix = f" ({report.label})" if w.overlay else ""
        handles.append(Line2D([], [], color=REFERENCE_COLOUR, ls=ls,
                              label=f"memcpy 1 MiB, hot: {format_rate(bandwidth)}{suffix}"))
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
    SizeChart("throughput", "Throughput vs message size", "Throughput vs message size",
              "Median payload throughput over repetitions, one-way stream, log-log. " + MARKS
              + " Horizontal line: hot 1 MiB memcpy bandwidth of the machine. " + GAPS,
              (THROUGHPUT,), with_memcpy=True),
    SizeChart("latency", "Latency vs message size", "Round-trip latency (RTT) vs message size",
              "Median over repetitions of the p50 round trip (RTT, ping-pong of n bytes each way); "
              "the shaded band reaches the p99 RTT. Grey: the harness floor (null channel, no IPC). "
              + MARKS + " " + GAPS, (LATENCY,), with_floor=True),
    SizeChart("cpu", "CPU cost per message", "CPU cost per message vs message size",
              "User+sys CPU time of both peers per message (per round trip in ping-pong), median "
              "over repetitions. Busy-polling variants spend CPU while they wait; blocking ones "
              "sleep. " + MARKS + " " + GAPS, (CPU_LATENCY, CPU_THROUGHPUT)),
)


def size_chart(w: ChartWriter, spec: SizeChart, family: str | None) -> Chart | None:
    """The overview (family None) or one family's chart of spec."""
    series = w.series(family)
    if family is not None and spec.with_floor:
        series += w.floor_series()
    scope = family or "all mechanisms"
    title = f"{spec.title} — {scope}"
    width = 11 if family is None else 10
    fig, axes = w.figure(title, width + 4 * (len(spec.metrics) - 1), 6.2, ncols=len(spec.metrics))
    drawn = []
    for ax, metric in zip(axes, spec.metrics):
        drawn += draw_metric_vs_size(w, ax, series, metric)
        if len(spec.metrics) > 1:
            ax.set_title("ping-pong (latency)" if metric.pattern == "latency" else "stream (throughput)",
                         fontsize=10)
    if not drawn:
        return None
    handles = [w.palette.handle(s) for s in dict.fromkeys(drawn)]
    if spec.with_memcpy:
        handles += _memcpy_lines(w, axes[0])
    _legend(axes[-1], handles + w.report_handles())
    stem = f"{spec.stem}-{'overview' if family is None else slug(family)}"
    return w.save(fig, stem, spec.section, title, spec.caption)


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
    ticks = [(_percentile_x(p), _percentile_label(p)) for p in percentiles if p in (0, 50, 90, 99, 99.9, 99.99)]
    ticks.append((max_x, "max"))
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(FixedLocator([x for x, _ in ticks]))
    ax.xaxis.set_major_formatter(FixedFormatter([label for _, label in ticks]))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.tick_params(axis="x", labelsize=8)
    ax.set_xlim(0.8, max_x * 1.6)
    ax.set_xlabel("percentile (axis scaled as 1/(1−p): each step right is ten times rarer)")
    _value_axis(ax, Metric("", "latency", "round trip (RTT)", format_ns, True))
    ax.grid(True, which="major", color="#e5e5e5", lw=0.8)
    drawn = dict.fromkeys(name for _, name, _, _ in lines)
    _legend(ax, [w.palette.handle(s) for s in drawn] + w.report_handles())
    caption = (f"Round-trip time (RTT) at each percentile of every round trip at {format_size(size)}, "
               "from the report's histogram (median over repetitions); min at the left, max as a "
               "separate point at the right (dotted). Flat lines mean predictable latency; a late "
               "rise is the tail.")
    return w.save(fig, f"spectrum-{size_slug(size)}", "Latency percentile spectrum", title, caption)


def _percentile_label(p: float) -> str:
    return "min (p0)" if p == 0 else f"p{p:g}"


def _nearest_size(w: ChartWriter, pattern: str, target: int) -> int | None:
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
    series = [s for s in w.series() if s not in floors
              and any(r.cell(s, metric.pattern, size) for r in w.reports)]
    extents = [v for r in w.reports for s in series
               for v in (r.value(s, metric.pattern, size, metric.key), r.value(s, metric.pattern, size, "rtt_p99_ns"))
               if math.isfinite(v) and v > 0]
    if not extents:
        return None
    latency = metric.pattern == "latency"
    floor_name, floor = _floor_value(w, size) if latency else ("", math.nan)
    left = 10 ** math.floor(math.log10(min(extents + ([floor] if math.isfinite(floor) else []))))
    series = _ranked(w, series, metric, size)
    what = "p50 round trip (RTT)" if latency else "throughput"
    title = f"Which should I use: {what} at {format_size(size)}, best first"
    n = len(w.reports)
    fig, (ax,) = w.figure(title, 11, 1.9 + 0.32 * len(series) * max(1.0, 0.75 * n))
    height = 0.8 / n
    for index, report in enumerate(w.reports):
        for row, name in enumerate(series):
            y = row + (index - (n - 1) / 2) * height
            _ranking_bar(w, ax, report, index, name, y, height, metric, size, left)
    ax.set_yticks(range(len(series)), series, fontsize=8)
    ax.set_ylim(len(series) - 0.5, -0.5)
    ax.set_xscale("log")
    ax.set_xlim(left, max(extents) * 12)
    label = "round trip (RTT), p50" if latency else "throughput, payload bytes per second"
    _value_axis(ax, Metric("", metric.pattern, label, metric.fmt, True), axis="x")
    ax.grid(True, axis="x", which="major", color="#e5e5e5", lw=0.8)
    handles = w.report_patches() if n > 1 else []
    if latency:
        handles.append(Line2D([], [], color="black", marker="|", ls="none", ms=9, label="p99 RTT"))
    if math.isfinite(floor):
        ax.axvline(floor, color=FLOOR_COLOUR, ls="--", lw=1)
        handles.append(Line2D([], [], color=FLOOR_COLOUR, ls="--",
                              label=f"harness floor ({floor_name}): {format_ns(floor)}"))
    if handles:
        _legend(ax, handles)
    caption = (f"Median {what} at {format_size(size)} per mechanism, best at the top (log scale). "
               + ("Black tick: p99 RTT; dashed line: the harness floor (null channel). " if latency else "")
               + ("Bar hatching names the report; the order follows the first report. " if n > 1 else "")
               + "A mechanism that could not run this size says why instead of a bar.")
    return w.save(fig, f"ranking-{metric.pattern}-{size_slug(size)}", "Which should I use", title, caption)


def _ranking_bar(w: ChartWriter, ax, report: Report, index: int, name: str, y: float, height: float,
                 metric: Metric, size: int, left: float) -> None:
    cell = report.cell(name, metric.pattern, size)
    if cell is None:
        return
    value = report.value(name, metric.pattern, size, metric.key)
    if not math.isfinite(value):
        ax.text(left * 1.1, y, f"{cell.status}: {cell.reason}"[:100], va="center", fontsize=7,
                color="#a00000", style="italic")
        return
    ax.barh(y, value - left, left=left, height=height * 0.9, color=w.palette.colour(name),
            hatch=HATCHES[index % len(HATCHES)], edgecolor="white", lw=0)
    label, end = metric.fmt(value), value
    p99 = report.value(name, metric.pattern, size, "rtt_p99_ns")
    if metric.pattern == "latency" and math.isfinite(p99):
        ax.plot([p99], [y], marker="|", color="black", ms=min(9.0, 14 * height), ls="none")
        label, end = f"{label}  (p99 {metric.fmt(p99)})", max(value, p99)
    ax.text(end * 1.12, y, label, va="center", fontsize=7)


HEATMAP_METRICS = (LATENCY, LATENCY_P99, THROUGHPUT)


def heatmap_chart(w: ChartWriter, metric: Metric, contender: int, compare: CompareResults | None) -> Chart | None:
    """contender/baseline ratio of the median per (series, size), coloured on a log scale around 1."""
    base, other = w.reports[0], w.reports[contender]
    sizes = sorted(set(base.sizes(metric.pattern)) | set(other.sizes(metric.pattern)))
    series = [s for s in w.series() if any((base.cell(s, metric.pattern, z) or other.cell(s, metric.pattern, z)) for z in sizes)]
    if not series or not sizes:
        return None
    grid, outlines = _ratio_grid(base, other, series, sizes, metric, compare if contender == 1 else None)
    finite = [abs(math.log(v)) for row in grid for v in row if math.isfinite(v) and v > 0]
    if not finite:
        return None
    span = next((s for s in (1.5, 2.0, 3.0, 5.0) if math.log(s) >= max(finite)), 10.0)
    what = {"rtt_p50_ns": "p50 round trip (RTT)", "rtt_p99_ns": "p99 round trip (RTT)"}.get(metric.key, "throughput")
    title = f"{what}: {other.label} / {base.label}"
    fig, (ax,) = w.figure(title, max(8.5, 3.5 + 0.75 * len(sizes)), 2.4 + 0.3 * len(series))
    cmap = matplotlib.colormaps["RdBu_r" if metric.lower_is_better else "RdBu"].copy()
    cmap.set_bad("#dddddd")
    image = ax.imshow(grid, cmap=cmap, norm=LogNorm(1 / span, span), aspect="auto")
    for row, col in outlines:
        ax.add_patch(Rectangle((col - 0.5, row - 0.5), 1, 1, fill=False, edgecolor="black", lw=2.2))
    for row, values in enumerate(grid):
        for col, value in enumerate(values):
            _heatmap_label(ax, row, col, value, span)
    ax.set_xticks(range(len(sizes)), [format_size(s) for s in sizes], fontsize=8, rotation=30)
    ax.set_yticks(range(len(series)), series, fontsize=8)
    ax.set_xlabel("message size")
    bar = fig.colorbar(image, ax=ax, shrink=0.9)
    ticks = [t for t in (0.1, 0.2, 1 / 3, 0.5, 2 / 3, 0.8, 1.0, 1.25, 1.5, 2, 3, 5, 10)
             if 1 / span <= t * 1.0001 and t <= span * 1.0001]
    bar.set_ticks(ticks, labels=[f"{round(t, 2):g}×" for t in ticks])
    bar.ax.minorticks_off()
    better = "lower" if metric.lower_is_better else "higher"
    bar.set_label(f"{other.label} / {base.label} (log scale; {better} is better)", fontsize=8)
    if compare is not None and contender == 1:
        ax.set_title("Thick black border: the compare tool's verdict is regression or improvement",
                     fontsize=8, loc="left")
    caption = (f"Ratio of the median {what}, {other.label} divided by {base.label}, per mechanism and "
               "size; colour on a log scale centred on 1.0 (white: no change; red: the contender is "
               "worse; blue: it is better). Grey: absent, skipped or failed in either report. "
               + ("Outlined cells: the compare tool's verdict is regression or improvement "
                  "(significant and above its threshold); ratios come from the compare JSON where it "
                  "has the cell." if compare is not None and contender == 1
                  else "No compare JSON given: ratios computed here, no significance outlines."))
    stem = f"heatmap-{slug(metric.key)}-{slug(other.label)}"
    return w.save(fig, stem, "Ratio heatmaps", title, caption)


def _ratio_grid(base: Report, other: Report, series: list[str], sizes: list[int], metric: Metric,
                compare: CompareResults | None) -> tuple[list[list[float]], list[tuple[int, int]]]:
    grid, outlines = [], []
    for row, name in enumerate(series):
        values = []
        for col, size in enumerate(sizes):
            ratio = _ratio(other.value(name, metric.pattern, size, metric.key),
                           base.value(name, metric.pattern, size, metric.key))
            cell = base.cell(name, metric.pattern, size) or other.cell(name, metric.pattern, size)
            verdict = compare.lookup(cell, metric.key) if compare and cell else None
            if verdict is not None:
                if verdict.ratio is not None and math.isfinite(ratio):
                    ratio = verdict.ratio
                if verdict.significant:
                    outlines.append((row, col))
            values.append(ratio if math.isfinite(ratio) and ratio > 0 else math.nan)
        grid.append(values)
    return grid, outlines


def _ratio(contender: float, baseline: float) -> float:
    if math.isfinite(contender) and math.isfinite(baseline) and contender > 0 and baseline > 0:
        return contender / baseline
    return math.nan


def _heatmap_label(ax, row: int, col: int, value: float, span: float) -> None:
    if math.isnan(value):
        ax.text(col, row, "–", ha="center", va="center", fontsize=7, color="#666666")
        return
    strong = abs(math.log(value)) > 0.6 * math.log(span)
    ax.text(col, row, f"{value:.2f}", ha="center", va="center", fontsize=7,
            color="white" if strong else "black")
