"""Topology charts: aggregate throughput against N (pairs/N, fan_in/N, fan_out/N), latency
against N (pairs/N: the round trip; fan_in/N and fan_out/N, streams with no round trip: the
one-way delay of sampled records, mostly time spent queued), and the torn-record count of fan-in
across PIPE_BUF. Only the first report's points are drawn."""

from __future__ import annotations

import math

from .figure import Chart, ChartWriter, legend, size_slug, slug
from .report import TopologyPoint
from .units import format_ns, format_rate, format_size

SECTION = "Many processes on one channel"
OVER = "Hollow markers: oversubscribed (more peers than allowed CPUs); failed or skipped points are gaps."
N_MEANS = {
    "pairs": "N (independent pairs at once)",
    "fan_in": "N (producers into one consumer)",
    "fan_out": "N (consumers of one producer)",
}
CAPTIONS = {
    "fan_out": (
        " Over pipes and sockets every consumer gets every message (the aggregate counts each "
        "copy); over a message queue each message goes to one reader (a work queue)."
    ),
}


def _points(w: ChartWriter, topology: str, pattern: str, size: int) -> dict[str, list[TopologyPoint]]:
    by_id: dict[str, list[TopologyPoint]] = {}
    for p in w.reports[0].topology:
        if p.topology == topology and p.pattern == pattern and p.size == size:
            by_id.setdefault(p.id, []).append(p)
    for points in by_id.values():
        points.sort(key=lambda p: p.n)
    return by_id


def _colour(w: ChartWriter, name: str, index: int):
    """The mechanism's colour in the other charts, or one of tab10's for an id only here."""
    try:
        return w.palette.colour(name)
    except KeyError:
        import matplotlib

        return matplotlib.colormaps["tab10"].colors[index % 10]


def _marker(w: ChartWriter, name: str) -> str:
    """The mechanism's marker in the other charts (with its colour, a pair no other id has)."""
    try:
        return w.palette.marker(name)
    except KeyError:
        return "o"


def _value(p: TopologyPoint, key: str) -> float:
    value = p.counters.get(key, math.nan) if p.status == "ok" else math.nan
    return value if isinstance(value, float) else math.nan


def against_n_chart(
    w: ChartWriter, topology: str, pattern: str, size: int, key: str, label: str, fmt
) -> Chart | None:
    """One line per mechanism: `key` of each N's benchmark (NaN breaks the line)."""
    by_id = _points(w, topology, pattern, size)
    by_id = {i: ps for i, ps in by_id.items() if any(math.isfinite(_value(p, key)) for p in ps)}
    if not by_id:
        return None
    title = f"{topology}/N {pattern} at {format_size(size)}: {label.split(',')[0]} against N"
    fig, (ax,) = w.figure(title, 9, 5.5)
    handles = []
    for index, (name, points) in enumerate(by_id.items()):
        colour = _colour(w, name, index)
        xs = [p.n for p in points]
        ys = [_value(p, key) for p in points]
        marker = _marker(w, name)
        (line,) = ax.plot(xs, ys, color=colour, marker=marker, label=name)
        handles.append(line)
        for p, y in zip(points, ys):
            if p.oversubscribed and math.isfinite(y):
                ax.plot([p.n], [y], marker=marker, color="white", markeredgecolor=colour, ms=6)
    ax.set_xscale("log", base=2)
    ns = sorted({p.n for ps in by_id.values() for p in ps})
    ax.set_xticks(ns, [str(n) for n in ns])
    ax.set_xlabel(N_MEANS.get(topology, "N"))
    ax.set_yscale("log")
    ax.set_ylabel(label)
    ax.yaxis.set_major_formatter(lambda v, _: fmt(v))
    ax.grid(True, which="both", alpha=0.3)
    legend(ax, handles)
    stem = slug(f"topology-{topology}-{pattern}-{key}-{size_slug(size)}")
    return w.save(fig, stem, SECTION, title, OVER + CAPTIONS.get(topology, ""))


def torn_chart(w: ChartWriter) -> Chart | None:
    """fan_in: torn records against message size, one line per mechanism and N, PIPE_BUF marked."""
    lines: dict[tuple[str, int], list[tuple[int, float]]] = {}
    for p in w.reports[0].topology:
        if p.topology != "fan_in" or "torn_records" not in p.counters:
            continue
        lines.setdefault((p.id, p.n), []).append((p.size, _value(p, "torn_records")))
    if not lines:
        return None
    title = "fan_in/N: records torn by the kernel, across PIPE_BUF"
    fig, (ax,) = w.figure(title, 9, 5.5)
    handles = []
    for (name, n), pts in sorted(lines.items()):
        pts.sort()
        (line,) = ax.plot(
            [s for s, _ in pts], [v for _, v in pts], marker="o", label=f"{name} N={n}"
        )
        handles.append(line)
    pipe_buf = w.reports[0].limit("pipe_buf", 4096)
    if pipe_buf:
        ax.axvline(pipe_buf, color="grey", ls=":", lw=1)
    ax.set_xscale("log", base=2)
    ax.xaxis.set_major_formatter(lambda v, _: format_size(int(v)))
    ax.set_xlabel("message size (dotted: PIPE_BUF)")
    ax.set_ylabel("torn records in the timed batch")
    ax.grid(True, alpha=0.3)
    legend(ax, handles)
    caption = (
        "A torn record arrived in more than one run (a write above PIPE_BUF interleaved with "
        "another producer's); every byte of it names its producer and was checked, so it is no "
        "error."
    )
    return w.save(fig, "topology-fan-in-torn", SECTION, title, caption)


def topology_charts(w: ChartWriter) -> list[Chart | None]:
    if not w.reports or not w.reports[0].topology:
        return []
    charts: list[Chart | None] = []
    sizes = sorted({p.size for p in w.reports[0].topology})
    for size in sizes:
        for topology in ("pairs", "fan_in", "fan_out"):
            charts.append(
                against_n_chart(
                    w, topology, "throughput", size, "bytes_per_second",
                    "aggregate throughput, payload bytes per second", format_rate,
                )
            )
        charts.append(
            against_n_chart(
                w, "pairs", "latency", size, "rtt_p50_ns", "round trip p50, all pairs", format_ns
            )
        )
        for topology in ("fan_in", "fan_out"):
            charts.append(
                against_n_chart(
                    w, topology, "throughput", size, "delay_p50_ns",
                    "one-way delay p50, all paths (send to checked, queueing included)", format_ns,
                )
            )
    charts.append(torn_chart(w))
    return charts
