"""The layer-cost charts: each middleware's ratio to its raw mechanism vs message size."""

from __future__ import annotations

import math

from matplotlib.lines import Line2D

from .figure import REFERENCE_COLOUR, Chart, ChartWriter, Metric, legend, size_axis, value_axis
from .layer import LAYER_METRICS, LayerTable, format_ratio, layer_table

LAYER_SECTION = "Layer cost: middleware vs the raw mechanism"
NOT_DRAWN_CHARS = 90


def layer_tables(w: ChartWriter) -> list[LayerTable]:
    return [layer_table(r) for r in w.reports]


def layer_chart(w: ChartWriter, pattern: str) -> Chart | None:
    """Two panels (the pattern's metric and CPU): one line per middleware and report."""
    metrics = [m for m in LAYER_METRICS if m.pattern == pattern]
    tables = layer_tables(w)
    what = "ping-pong (latency)" if pattern == "latency" else "stream (throughput)"
    title = f"Layer cost, {what}: middleware ÷ the raw mechanism it rides on"
    fig, axes = w.figure(title, 15, 6.2, ncols=len(metrics))
    drawn: dict[str, str] = {}  # middleware series -> its base
    not_drawn: dict[str, str] = {}
    sizes_seen: set[int] = set()
    for ax, metric in zip(axes, metrics):
        for index, table in enumerate(tables):
            for pair in table.pairs:
                cells = [c for c in pair.metric_cells(metric) if c.size > 0]
                points = [(c.size, c.ratio) for c in cells]
                if not any(math.isfinite(r) for _, r in points):
                    if pair.series not in drawn:
                        reasons = [c.missing for c in cells if c.missing] + pair.notes
                        if reasons:
                            not_drawn.setdefault(pair.series, reasons[0])
                    continue
                drawn[pair.series] = pair.base
                not_drawn.pop(pair.series, None)
                sizes_seen.update(s for s, _ in points)
                ax.plot(
                    [s for s, _ in points],
                    [r for _, r in points],
                    color=w.palette.colour(pair.series),
                    marker=w.palette.marker(pair.series),
                    ls=w.line_style(index),
                    ms=4,
                    lw=1.5,
                )
        ax.set_title(f"{metric.name}: {metric.formula}", fontsize=10)
    if not drawn:
        return None
    for ax, metric in zip(axes, metrics):
        ax.axhline(1.0, color=REFERENCE_COLOUR, ls="--", lw=1, zorder=0)
        size_axis(ax, sorted(sizes_seen))
        label = "ratio (log scale): above 1, the factor the layer costs"
        value_axis(ax, Metric("", metric.pattern, label, format_ratio, True))
        ax.grid(True, which="major", color="#e5e5e5", lw=0.8)
    handles = [
        Line2D(
            [],
            [],
            color=w.palette.colour(s),
            marker=w.palette.marker(s),
            ms=5,
            label=f"{s} on {base}",
        )
        for s, base in drawn.items()
    ]
    handles.append(
        Line2D([], [], color=REFERENCE_COLOUR, ls="--", label="1× = the raw mechanism itself")
    )
    for series, why in not_drawn.items():
        text = f"{series}: not drawn, {why}"
        if len(text) > NOT_DRAWN_CHARS:
            text = text[: NOT_DRAWN_CHARS - 1] + "…"
        handles.append(Line2D([], [], ls="none", label=text))
    legend(axes[-1], handles + w.report_handles())
    caption = (
        f"Each middleware's {' and '.join(m.name for m in metrics)} as a ratio to the raw "
        "kernel mechanism it rides on (the table below says which and why), at each message "
        "size, from the medians over repetitions. Above 1 (dashed line) the layer costs that "
        "factor; "
        + ("throughput is inverted (base ÷ middleware) so that this holds. " if pattern ==
           "throughput" else "")
        + "Gaps: one side was skipped, failed or not run there (never zero)."
    )
    return w.save(fig, f"layer-cost-{pattern}", LAYER_SECTION, title, caption)
