"""What every chart shares: metrics, the palette, titles, axes, legends and saving.

Several reports are overlaid: colour and marker name the series (benchmark id), the line style
(or bar hatching) names the report.

Colours and markers: COLOURS has 16 colours that stay apart on white (no grey: grey is the
calibration floor's), MARKERS 9 shapes; the k-th series gets colour k mod 16 and marker
(k + k div 16) mod 9. Since 17 and 9 share no factor, no two of the first 16 × 9 = 144 series
share a pair, and neighbours (a family's series are consecutive) differ in colour and in marker.
"""

from __future__ import annotations

import math
import os
import re
import textwrap
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import matplotlib
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.text import Annotation
from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, NullFormatter, NullLocator

from .report import CALIBRATION_FAMILY, Report
from .units import KIB, format_ns, format_rate, format_size, size_ticks

# Figures are drawn off screen; nothing here imports pyplot.
matplotlib.use("Agg")

LINE_STYLES = (("solid", "-"), ("dashed", "--"), ("dotted", ":"), ("dash-dot", "-."))
HATCHES = ("", "//", "..", "xx")
HATCH_NAMES = ("plain bars", "hatched bars //", "dotted bars", "crossed bars")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "h")
COLOURS = (
    "#1f77b4",  # matplotlib's tab10 without its grey
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#bcbd22",
    "#17becf",
    "#393b79",  # and darker tones from tab20b, black, periwinkle
    "#637939",
    "#8c6d31",
    "#843c39",
    "#7b4173",
    "#000000",
    "#6b6ecf",
)
DISTINCT_PAIRS = len(COLOURS) * len(MARKERS)
FLOOR_COLOUR = "#7f7f7f"
REFERENCE_COLOUR = "#555555"
TITLE_PT = 13
SUBTITLE_PT = 8.5
SAVE_DPI = 100
LABEL_PT = 7
LABEL_ROOM = 0.2  # share of a size axis kept free on the right for the direct labels


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
    "bytes_per_second",
    "throughput",
    "throughput, payload bytes per second\n(one-way stream; 1 GB/s = 10⁹ B/s)",
    format_rate,
    False,
)
LATENCY = Metric(
    "rtt_p50_ns",
    "latency",
    "round trip (RTT), p50 line and p50–p99 band",
    format_ns,
    True,
    band_key="rtt_p99_ns",
)
LATENCY_P99 = Metric("rtt_p99_ns", "latency", "round trip (RTT), p99", format_ns, True)
CPU_LATENCY = Metric(
    "cpu_ns_per_message",
    "latency",
    "CPU time per round trip\n(user+sys, both peers)",
    format_ns,
    True,
)
CPU_THROUGHPUT = Metric(
    "cpu_ns_per_message",
    "throughput",
    "CPU time per message\n(user+sys, both peers)",
    format_ns,
    True,
)


def size_slug(size: int) -> str:
    return format_size(size).replace(" ", "")


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def style(index: int) -> tuple[str, str]:
    """The colour and marker of the index-th series (see the module's comment)."""
    k = index % DISTINCT_PAIRS
    return COLOURS[k % len(COLOURS)], MARKERS[(k + k // len(COLOURS)) % len(MARKERS)]


class Palette:
    """A stable colour and marker per series across every chart of one render."""

    def __init__(self, reports: list[Report]):
        self._style = {}
        index = 0
        for report in reports:
            for series, family in report.series_family.items():
                if series in self._style:
                    continue
                if family == CALIBRATION_FAMILY:
                    self._style[series] = (FLOOR_COLOUR, ".")
                    continue
                self._style[series] = style(index)
                index += 1

    def colour(self, series: str):
        return self._style[series][0]

    def marker(self, series: str) -> str:
        return self._style[series][1]

    def handle(self, series: str) -> Line2D:
        return Line2D(
            [], [], color=self.colour(series), marker=self.marker(series), ms=5, label=series
        )


class ChartWriter:
    """Shared state of one render: the reports, their palette, the output folder.

    Writing a chart's two files is most of a render's time, so save() hands it to a forked
    process, up to `jobs` at once (default: the CPUs this process may run on), while the next
    chart is drawn; finish() waits for them all and raises OSError naming the first file that
    could not be written. jobs=1 writes in this process.
    """

    def __init__(self, reports: list[Report], out_dir: Path, jobs: int | None = None):
        self.reports = reports
        self.out_dir = out_dir
        self.palette = Palette(reports)
        self._stems: set[str] = set()
        self._jobs = jobs if jobs is not None else len(os.sched_getaffinity(0))
        self._writing: dict[int, str] = {}  # pid -> stem
        self._failed: list[str] = []

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
        return sorted(
            names, key=lambda s: order.index(family_of[s]) if family_of[s] in order else len(order)
        )

    def floor_series(self) -> list[str]:
        return self.series(CALIBRATION_FAMILY)

    def line_style(self, report_index: int) -> str:
        return LINE_STYLES[report_index % len(LINE_STYLES)][1]

    def subtitle(self, roles: tuple[str, ...]) -> list[str]:
        """The machine of each report, introduced by its role in the chart (its line style...);
        for a report with estimates, a line saying which repetitions its values come from."""
        if not self.overlay:
            report = self.reports[0]
            if not report.estimates:
                return [f"{report.machine_line()} · {report.basis()}"]
            return [report.machine_line(), report.basis()]
        lines = []
        for i, r in enumerate(self.reports):
            lines.append(f"{roles[i % len(roles)]}: {r.label} — {r.machine_line()}")
            lines += [f"{r.label}: {r.basis()}"] if r.estimates else []
        return lines

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

    def figure(
        self,
        title: str,
        width: float,
        height: float,
        ncols: int = 1,
        roles: tuple[str, ...] = tuple(name for name, _ in LINE_STYLES),
    ):
        fig = Figure(figsize=(width, height), layout="constrained")
        titles(fig, title, self.subtitle(roles))
        axes = fig.subplots(1, ncols, squeeze=False)[0]
        return fig, list(axes)

    def save(self, fig: Figure, stem: str, section: str, title: str, caption: str) -> Chart:
        stem = self._unique(stem)
        if self._jobs <= 1:
            self._write(fig, stem)
            return Chart(stem, section, title, caption)
        while len(self._writing) >= self._jobs:
            self._reap_oldest()
        pid = os.fork()
        if pid == 0:  # the child writes the files and leaves without running the parent's exits
            code = 1
            try:
                self._write(fig, stem)
                code = 0
            except BaseException:  # noqa: BLE001 - told to the parent by the exit status
                traceback.print_exc()
            finally:
                os._exit(code)
        self._writing[pid] = stem
        return Chart(stem, section, title, caption)

    def finish(self) -> None:
        """Waits for every chart still being written; OSError naming the first that failed."""
        self.wait()
        if self._failed:
            failed, self._failed = self._failed[0], []
            raise OSError(0, "the process writing it failed", str(self.out_dir / f"{failed}.svg"))

    def wait(self) -> None:
        """Waits for every chart still being written (on every exit path of a render)."""
        while self._writing:
            self._reap_oldest()

    def _reap_oldest(self) -> None:
        # Its own pid, not any child's: a render never reaps a process it did not fork.
        pid = next(iter(self._writing))
        _, status = os.waitpid(pid, 0)
        stem = self._writing.pop(pid)
        if os.waitstatus_to_exitcode(status) != 0:
            self._failed.append(stem)

    def _write(self, fig: Figure, stem: str) -> None:
        fig.savefig(self.out_dir / f"{stem}.svg", metadata={"Date": None})
        # The constrained layout placed everything while the SVG was drawn; the PNG keeps it
        # rather than solving it again.
        fig.set_layout_engine("none")
        fig.savefig(self.out_dir / f"{stem}.png", dpi=SAVE_DPI)

    def _unique(self, stem: str) -> str:
        candidate, n = stem, 2
        while candidate in self._stems:
            candidate, n = f"{stem}-{n}", n + 1
        self._stems.add(candidate)
        return candidate


# The widest a subtitle character runs, as a share of the font size (DejaVu Sans, mixed text).
SUBTITLE_CHAR_EM = 0.6


def subtitle_lines(lines: list[str], width_in: float) -> list[str]:
    """The lines wrapped at words to what a figure `width_in` inches wide holds at SUBTITLE_PT."""
    chars = max(20, int(width_in * 72 * 0.96 / (SUBTITLE_PT * SUBTITLE_CHAR_EM)))
    out = []
    for line in lines:
        out += textwrap.wrap(line, chars, break_long_words=False, break_on_hyphens=False) or [""]
    return out


def titles(fig: Figure, title: str, subtitle: list[str]) -> None:
    """A bold title with the machine line(s) under it.

    Constrained layout only reserves room for the suptitle, so the suptitle carries blank lines
    as tall as the subtitle, which is anchored to the suptitle's top wherever layout puts it.
    A subtitle line wider than the figure is wrapped at words (subtitle_lines).
    """
    subtitle = subtitle_lines(subtitle, fig.get_figwidth())
    blank_lines = math.ceil(len(subtitle) * SUBTITLE_PT / TITLE_PT)
    # A blank last line would not count towards the text's height; a space does.
    heading = fig.suptitle(title + "\n " * blank_lines, fontsize=TITLE_PT, fontweight="bold")
    fig.add_artist(
        Annotation(
            "\n".join(subtitle),
            xy=(0.5, 1.0),
            xycoords=heading,
            xytext=(0, -TITLE_PT * 1.35),
            textcoords="offset points",
            ha="center",
            va="top",
            fontsize=SUBTITLE_PT,
            color="#444444",
            linespacing=1.15,
        )
    )


def size_axis(ax, sizes: list[int]) -> None:
    ax.set_xscale("log", base=2)
    ax.xaxis.set_major_locator(FixedLocator(size_ticks(min(sizes), max(sizes))))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: format_size(v)))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xlim(min(sizes) / 1.4, max(sizes) * 1.4)
    ax.set_xlabel("message size (bytes, log scale)")
    ax.tick_params(axis="x", labelsize=8, labelrotation=30)


def value_axis(ax, metric: Metric, axis: str = "y") -> None:
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


def size_markers(ax, reports: list[Report]) -> None:
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
            ax.text(
                size,
                0.985,
                f"{name} {format_size(size)}",
                transform=ax.get_xaxis_transform(),
                rotation=90,
                ha="center",
                va="top",
                fontsize=7,
                color="#555555",
                bbox=dict(facecolor="white", edgecolor="none", alpha=0.85, pad=1.5),
                zorder=1.5,  # under the data lines (zorder 2)
            )


def legend(ax, handles: list, fontsize: float = 8) -> None:
    ncol = 2 if len(handles) > 26 else 1
    ax.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize=fontsize,
        frameon=False,
        ncol=ncol,
        handlelength=2.6,
    )


def direct_labels(ax, ends: dict[str, tuple[float, float, str]]) -> None:
    """The series' names where their lines end (ends: name -> (x, y, colour)) on a log-log
    chart, in the line's colour. The size axis grows by LABEL_ROOM to the right so the names of
    lines that reach the largest size have room; names that would overlap are moved apart
    vertically, with a thin leader to the point they belong to. Call it last: it fixes the
    value axis' limits the positions are computed from."""
    if not ends:
        return
    xlo, xhi = ax.get_xlim()
    ax.set_xlim(xlo, xhi * (xhi / xlo) ** (LABEL_ROOM / (1 - LABEL_ROOM)))
    ylo, yhi = ax.get_ylim()
    ax.set_ylim(ylo, yhi)
    span = math.log(yhi / ylo) or 1.0
    # The axes' height in points is only known after layout; about 60 % of the figure's.
    gap = LABEL_PT * 1.25 / (ax.figure.get_figheight() * 72 * 0.6)
    groups: dict[float, list[tuple[float, str, float, str]]] = {}
    for name, (x, y, colour) in ends.items():
        groups.setdefault(x, []).append((math.log(y / ylo) / span, name, y, colour))
    for x, items in groups.items():
        items.sort()
        for (wanted, name, y, colour), at in zip(items, spread([i[0] for i in items], gap)):
            moved = abs(at - wanted) > gap / 2
            ax.annotate(
                name,
                xy=(x, y),
                xytext=(x * 2**0.35, at),
                textcoords=ax.get_xaxis_transform(),
                fontsize=LABEL_PT,
                color=colour,
                ha="left",
                va="center",
                annotation_clip=False,
                arrowprops=dict(arrowstyle="-", color=colour, lw=0.5, shrinkA=0, shrinkB=2)
                if moved
                else None,
            )


TOP = 0.98  # the highest label's centre, in axes fractions: under the frame's top


def spread(wanted: list[float], gap: float) -> list[float]:
    """Positions (ascending input, axes fractions) moved apart to at least gap, kept under TOP
    where they fit: up from the lowest, then down from the top if the highest left the axes."""
    at = []
    for value in wanted:
        at.append(max(value, at[-1] + gap) if at else value)
    if at and at[-1] > TOP:
        at[-1] = TOP
        for i in range(len(at) - 2, -1, -1):
            at[i] = min(at[i], at[i + 1] - gap)
    return at
