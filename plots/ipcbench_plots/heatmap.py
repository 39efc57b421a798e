"""Ratio heatmaps: contender / baseline per (series, size), outlined where compare saw a change."""

from __future__ import annotations

import math

import matplotlib
from matplotlib.colors import LogNorm
from matplotlib.patches import Rectangle

from .compare import CompareResults
from .figure import LATENCY, LATENCY_P99, THROUGHPUT, Chart, ChartWriter, Metric, slug
from .report import Report
from .units import format_size


HEATMAP_METRICS = (LATENCY, LATENCY_P99, THROUGHPUT)


def heatmap_chart(
    w: ChartWriter, metric: Metric, contender: int, compare: CompareResults | None
) -> Chart | None:
    """Contender/baseline ratio of the median per (series, size) on a log colour scale around 1."""
    base, other = w.reports[0], w.reports[contender]
    sizes = sorted(set(base.sizes(metric.pattern)) | set(other.sizes(metric.pattern)))
    series = [
        s
        for s in w.series()
        if any((base.cell(s, metric.pattern, z) or other.cell(s, metric.pattern, z)) for z in sizes)
    ]
    if not series or not sizes:
        return None
    grid, outlines = _ratio_grid(
        base, other, series, sizes, metric, compare if contender == 1 else None
    )
    finite = [abs(math.log(v)) for row in grid for v in row if math.isfinite(v) and v > 0]
    if not finite:
        return None
    span = next((s for s in (1.5, 2.0, 3.0, 5.0) if math.log(s) >= max(finite)), 10.0)
    what = {"rtt_p50_ns": "p50 round trip (RTT)", "rtt_p99_ns": "p99 round trip (RTT)"}.get(
        metric.key, "throughput"
    )
    title = f"{what}: {other.label} / {base.label}"
    roles = ["baseline"] + [
        "contender" if i == contender else "other" for i in range(1, len(w.reports))
    ]
    fig, (ax,) = w.figure(
        title, max(8.5, 3.5 + 0.75 * len(sizes)), 2.4 + 0.3 * len(series), roles=tuple(roles)
    )
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
    ticks = [
        t
        for t in (0.1, 0.2, 1 / 3, 0.5, 2 / 3, 0.8, 1.0, 1.25, 1.5, 2, 3, 5, 10)
        if 1 / span <= t * 1.0001 and t <= span * 1.0001
    ]
    bar.set_ticks(ticks, labels=[f"{round(t, 2):g}×" for t in ticks])
    bar.ax.minorticks_off()
    better = "lower" if metric.lower_is_better else "higher"
    bar.set_label(f"{other.label} / {base.label} (log scale; {better} is better)", fontsize=8)
    if compare is not None and contender == 1:
        ax.set_title(
            "Thick black border: the compare tool's verdict is regression or improvement",
            fontsize=8,
            loc="left",
        )
    caption = (
        f"Ratio of the median {what}, {other.label} divided by {base.label}, per mechanism and "
        "size; colour on a log scale centred on 1.0 (white: no change; red: the contender is "
        "worse; blue: it is better). Grey: absent, skipped or failed in either report. "
        + (
            "Outlined cells: the compare tool's verdict is regression or improvement "
            "(significant and above its threshold); ratios come from the compare JSON where it "
            "has the cell."
            if compare is not None and contender == 1
            else "No compare JSON given: ratios computed here, no significance outlines."
        )
    )
    stem = f"heatmap-{slug(metric.key)}-{slug(other.label)}"
    return w.save(fig, stem, "Ratio heatmaps", title, caption)


def _ratio_grid(
    base: Report,
    other: Report,
    series: list[str],
    sizes: list[int],
    metric: Metric,
    compare: CompareResults | None,
) -> tuple[list[list[float]], list[tuple[int, int]]]:
    grid, outlines = [], []
    for row, name in enumerate(series):
        values = []
        for col, size in enumerate(sizes):
            ratio = _ratio(
                other.value(name, metric.pattern, size, metric.key),
                base.value(name, metric.pattern, size, metric.key),
            )
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
    ax.text(
        col,
        row,
        f"{value:.2f}",
        ha="center",
        va="center",
        fontsize=7,
        color="white" if strong else "black",
    )
