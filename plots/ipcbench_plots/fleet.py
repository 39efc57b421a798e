"""The fleet view: reports from N machines lined up per benchmark, outlier machines flagged.

Per benchmark (the name `<id>/<pattern>/<size>/<placement>`), each machine's median over its
repetitions of p50 RTT (latency) or bytes/s (throughput), or, normalised, of the report's own
ratio to the floors measured on that machine (`rtt_p50_per_wake_floor` or
`rtt_p50_per_line_floor`, `bytes_per_second_per_copy_floor`). A machine is an outlier on a
benchmark when, over the machines that have a value there (at least MIN_MACHINES), its robust z
score on the log scale, 0.6745 · |ln x − median| / MAD, exceeds Z_LIMIT and it is more than
MIN_EFFECT away from the median (so a tight fleet does not flag a 3 % difference); an outlier
machine is one that is an outlier on at least OUTLIER_SHARE of the benchmarks it was judged on.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

from .report import PATTERNS, Report, text
from .units import format_ns, format_rate, format_size

Z_LIMIT = 3.5  # Iglewicz and Hoaglin's cut for the modified z score
MIN_EFFECT = 0.2  # and at least 20 % from the fleet median
MIN_MACHINES = 3
OUTLIER_SHARE = 0.25
NORMALISE = ("wake", "line")


@dataclass(frozen=True)
class FleetMetric:
    pattern: str
    key: str
    label: str
    higher_is_better: bool

    def fmt(self, value: float) -> str:
        if not math.isfinite(value):
            return "—"
        if self.key == "rtt_p50_ns":
            return format_ns(value)
        if self.key == "bytes_per_second":
            return format_rate(value)
        return f"{value:.3g}×"


def metrics(normalise: str | None) -> dict[str, FleetMetric]:
    if normalise is None:
        return {
            "latency": FleetMetric("latency", "rtt_p50_ns", "p50 round trip (RTT)", False),
            "throughput": FleetMetric("throughput", "bytes_per_second", "throughput", True),
        }
    floor = "wake-up" if normalise == "wake" else "cache-line"
    return {
        "latency": FleetMetric("latency", f"rtt_p50_per_{normalise}_floor",
                               f"p50 RTT ÷ the {floor} round trip", False),
        "throughput": FleetMetric("throughput", "bytes_per_second_per_copy_floor",
                                  "throughput ÷ the cross-core copy floor", True),
    }


@dataclass
class Row:
    name: str
    id: str
    pattern: str
    size: int
    metric: FleetMetric
    values: list[float]  # per machine; NaN when missing
    missing: list[str]  # per machine: why there is no value ("" when there is)
    median: float = math.nan
    z: list[float] = field(default_factory=list)  # per machine; NaN when not judged
    outlier: list[bool] = field(default_factory=list)

    def slowdown(self, machine: int) -> float:
        """How many times worse than the fleet median (above 1: slower)."""
        value = self.values[machine]
        if not (math.isfinite(value) and math.isfinite(self.median)) or value <= 0:
            return math.nan
        ratio = value / self.median
        return 1 / ratio if self.metric.higher_is_better else ratio


@dataclass
class Fleet:
    reports: list[Report]
    normalise: str | None
    rows: list[Row]

    def judged(self, machine: int) -> int:
        return sum(1 for r in self.rows if math.isfinite(r.z[machine]))

    def flagged(self, machine: int) -> list[Row]:
        return [r for r in self.rows if r.outlier[machine]]

    def outlier_machine(self, machine: int) -> bool:
        judged = self.judged(machine)
        return judged > 0 and len(self.flagged(machine)) >= OUTLIER_SHARE * judged


def line_up(reports: list[Report], normalise: str | None = None) -> Fleet:
    chosen = metrics(normalise)
    names: dict[str, tuple[str, str, int]] = {}
    for report in reports:
        for cell in report.cells.values():
            if cell.pattern in chosen:
                names.setdefault(cell.name, (cell.id, cell.pattern, cell.size))
    by_name = [{c.name: c for c in r.cells.values()} for r in reports]
    rows = []
    for name, (bench_id, pattern, size) in sorted(
        names.items(), key=lambda kv: (PATTERNS.index(kv[1][1]), kv[1][0], kv[1][2], kv[0])
    ):
        metric = chosen[pattern]
        values, missing = [], []
        for cells in by_name:
            cell = cells.get(name)
            value = cell.values.get(metric.key, math.nan) if cell is not None and cell.ok \
                else math.nan
            values.append(value if math.isfinite(value) and value > 0 else math.nan)
            if cell is None:
                missing.append("not run")
            elif not cell.ok:
                missing.append(f"{cell.status}: {cell.reason}")
            elif not math.isfinite(values[-1]):
                missing.append(f"no {metric.key}")
            else:
                missing.append("")
        rows.append(_judge(Row(name, bench_id, pattern, size, metric, values, missing)))
    return Fleet(reports, normalise, rows)


def _judge(row: Row) -> Row:
    logs = [math.log(v) for v in row.values if math.isfinite(v)]
    row.z = [math.nan] * len(row.values)
    row.outlier = [False] * len(row.values)
    if not logs:
        return row
    centre = statistics.median(logs)
    row.median = math.exp(centre)
    if len(logs) < MIN_MACHINES:
        return row
    mad = statistics.median(abs(x - centre) for x in logs)
    for i, value in enumerate(row.values):
        if not math.isfinite(value):
            continue
        deviation = abs(math.log(value) - centre)
        row.z[i] = 0.6745 * deviation / mad if mad > 0 else (math.inf if deviation else 0.0)
        row.outlier[i] = row.z[i] > Z_LIMIT and abs(value / row.median - 1) > MIN_EFFECT
    return row


def machine_labels(reports: list[Report]) -> list[str]:
    """Host names when every report has its own, else the reports' labels (file stems)."""
    hosts = [text(r.context.get("host_name")) for r in reports]
    return hosts if all(hosts) and len(set(hosts)) == len(hosts) else [r.label for r in reports]


RULE = (
    f"A machine is an outlier on a benchmark when at least {MIN_MACHINES} machines have a "
    "value there and its robust z score on the log scale, 0.6745 × |ln x − median| / MAD "
    f"(MAD: the median absolute deviation of the machines' ln x), exceeds {Z_LIMIT:g}, and it is "
    f"more than {MIN_EFFECT:.0%} away from the fleet median. An outlier machine is an outlier on "
    f"at least {OUTLIER_SHARE:.0%} of the benchmarks it was judged on."
)


def summary(fleet: Fleet) -> list[str]:
    """Sentences for the top of the page: who stands out, on how much, in which direction."""
    labels = machine_labels(fleet.reports)
    lines = []
    for i, label in enumerate(labels):
        judged, flagged = fleet.judged(i), fleet.flagged(i)
        if not judged:
            lines.append(f"{label}: not judged (no benchmark where {MIN_MACHINES} or more "
                         "machines have a value).")
            continue
        slower = sum(1 for r in flagged if r.slowdown(i) > 1)
        verdict = "OUTLIER MACHINE" if fleet.outlier_machine(i) else "in line"
        ratios = [r.slowdown(i) for r in fleet.rows if math.isfinite(r.slowdown(i))]
        typical = statistics.median(ratios) if ratios else math.nan
        lines.append(
            f"{label}: {verdict} — an outlier on {len(flagged)} of {judged} benchmarks "
            f"({slower} slower, {len(flagged) - slower} faster than the fleet median); its "
            f"median benchmark is {typical:.2f}× the fleet median (above 1: slower)."
        )
    return lines


def conditions(fleet: Fleet) -> list[str]:
    """Warnings when the machines did not run under the same conditions."""
    warnings = []
    for what, get in (
        ("idle-state mode", lambda r: text(r.section("idle_states").get("in_force"))),
        ("placement", lambda r: text(r.ipcbench.get("placement"))),
        ("process model", lambda r: text(r.ipcbench.get("process_model"))),
        # A report from before --library-threads records no mode: its libraries' threads ran free.
        ("library threads", lambda r: text(r.ipcbench.get("library_threads")) or "free"),
        ("sweep", lambda r: text(r.ipcbench.get("sweep"))),
    ):
        seen = {get(r) or "unrecorded" for r in fleet.reports}
        if len(seen) > 1:
            warnings.append(f"The reports differ in {what} ({', '.join(sorted(seen))}): "
                            "differences may be the condition, not the machine.")
    return warnings


def write_fleet(out_dir: Path, fleet: Fleet) -> Path:
    """The chart and index.html of the fleet view; returns the page's path."""
    from .html import CSS, _num, _table

    out_dir.mkdir(parents=True, exist_ok=True)
    labels = machine_labels(fleet.reports)
    chart = _chart(out_dir, fleet, labels)
    what = ("raw medians" if fleet.normalise is None else
            f"normalised by each machine's own floors ({fleet.normalise})")
    html = (f"<h1>ipcbench fleet: {len(fleet.reports)} machines</h1>\n"
            f'<p class="lead">Every benchmark lined up across machines, {escape(what)}. '
            "Each value is the median over that machine's repetitions.</p>\n")
    items = "".join(f"<li>{escape(line)}</li>" for line in summary(fleet) + conditions(fleet))
    html += (f'<section class="headline" id="headline"><h2>Outlier machines</h2><ul>{items}'
             f'</ul><p class="muted">{escape(RULE)}</p></section>\n')
    if chart:
        html += (f'<figure id="fleet-spread"><img src="{chart}.svg" alt="fleet spread">'
                 "<figcaption>Each point is one benchmark on one machine: its value against "
                 "the fleet median of that benchmark, as a slowdown (above 1: slower; "
                 "throughput inverted so that up is always worse). Red: an outlier by the rule "
                 "above; grey: a benchmark fewer than three machines ran, drawn but not judged."
                 f'<span class="files"><a href="{chart}.svg">SVG</a> · '
                 f'<a href="{chart}.png">PNG</a></span></figcaption></figure>\n')
    html += '<h2 id="machines">Machines</h2>\n' + _machines(fleet, labels, _table)
    html += '<h2 id="benchmarks">Per benchmark</h2>\n'
    html += ("<p>Per benchmark, each machine's value, its factor against the fleet median and "
             "its robust z score; outliers in red. A missing value says why.</p>\n")
    for pattern in PATTERNS:
        rows = [r for r in fleet.rows if r.pattern == pattern]
        if rows:
            html += f"<h3>{escape(pattern)}: {escape(rows[0].metric.label)}</h3>\n"
            html += _rows_table(rows, labels, _num, _table)
    page = ('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f"<title>ipcbench fleet: {escape(', '.join(labels))}</title>\n<style>{CSS}"
            "td.outlier { color: #b3261e; font-weight: 600; background: #fff4f2; }\n"
            "</style>\n</head>\n"
            f"<body><main>\n{html}</main></body>\n</html>\n")
    path = out_dir / "index.html"
    path.write_text(page, encoding="utf-8")
    return path


def _machines(fleet: Fleet, labels: list[str], table) -> str:
    def floor(r: Report, key: str) -> str:
        value = r.section("calibration").get(key)
        p50 = value.get("p50") if isinstance(value, dict) else None
        return format_ns(p50) if isinstance(p50, (int, float)) else "—"

    rows = []
    for label, r in zip(labels, fleet.reports):
        memcpy = r.section("calibration").get("memcpy_bytes_per_second")
        rows.append([escape(x) for x in (
            label, str(r.path), r.machine_line(),
            text(r.section("idle_states").get("in_force")) or "unrecorded",
            text(r.ipcbench.get("placement")) or "—",
            f"{text(r.ipcbench.get('sweep')) or '—'}, {r.repetitions()} rep.",
            floor(r, "cache_line_rtt_ns"), floor(r, "wakeup_rtt_ns"),
            format_rate(memcpy) if isinstance(memcpy, (int, float)) else "—",
        )])
    return table(["machine", "report", "host · CPU · kernel · date", "idle states", "placement",
                  "sweep", "cache-line RTT p50", "wake-up RTT p50", "memcpy 1 MiB"], rows)


def _rows_table(rows: list[Row], labels: list[str], num, table) -> str:
    body = []
    for row in rows:
        cells = [escape(row.name), num(format_size(row.size))]
        for i in range(len(labels)):
            if row.missing[i]:
                cells.append(f'<td class="missing">{escape(row.missing[i][:80])}</td>')
                continue
            factor = row.values[i] / row.median
            z = row.z[i]
            detail = f"×{factor:.2f}" + (f", z {z:.1f}" if math.isfinite(z) else "")
            css = "num outlier" if row.outlier[i] else "num"
            cells.append(f'<td class="{css}">{escape(row.metric.fmt(row.values[i]))} '
                         f'<span class="muted">{escape(detail)}</span></td>')
        cells.append(num(row.metric.fmt(row.median)))
        body.append(cells)
    return table(["benchmark", "size"] + [escape(x) for x in labels] + ["fleet median"], body)


def _chart(out_dir: Path, fleet: Fleet, labels: list[str]) -> str:
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    from .figure import SAVE_DPI, titles

    panels = [p for p in PATTERNS if any(r.pattern == p for r in fleet.rows)]
    # Each point: machine, slowdown, kind (0 judged, 1 outlier, 2 too few machines to judge).
    points = {p: [(i, r.slowdown(i), 1 if r.outlier[i] else 0 if math.isfinite(r.z[i]) else 2)
                  for r in fleet.rows if r.pattern == p
                  for i in range(len(labels)) if math.isfinite(r.slowdown(i))] for p in panels}
    panels = [p for p in panels if points[p]]
    if not panels:
        return ""
    fig = Figure(figsize=(max(7.0, 2.2 + 1.6 * len(labels)) * len(panels) / 1.4, 5.6),
                 layout="constrained")
    what = "raw medians" if fleet.normalise is None else f"normalised by floors ({fleet.normalise})"
    titles(fig, "Fleet: each machine against the fleet median, per benchmark",
           [f"{len(labels)} machines, {what}"])
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    kinds = (
        (2, "#9e9e9e", 8, 0.35, f"fewer than {MIN_MACHINES} machines: not judged"),
        (0, "#1f77b4", 10, 0.35, "a benchmark on a machine"),
        (1, "#b3261e", 20, 0.9, "an outlier"),
    )
    for ax, pattern in zip(axes, panels):
        for kind, colour, size, alpha, label in kinds:
            chosen = [(i, s) for i, s, k in points[pattern] if k == kind]
            if not chosen:
                continue
            # A deterministic jitter spreads the points of one machine sideways.
            xs = [i + ((k * 0.618) % 1 - 0.5) * 0.5 for k, (i, _) in enumerate(chosen)]
            ax.scatter(xs, [s for _, s in chosen], s=size, color=colour, alpha=alpha, lw=0,
                       label=label)
        ax.axhline(1.0, color="#555555", ls="--", lw=1)
        ax.set_yscale("log")
        ratio = FuncFormatter(lambda v, _: f"{v:g}×")
        ax.yaxis.set_major_formatter(ratio)
        ax.yaxis.set_minor_formatter(ratio)
        ax.tick_params(axis="y", which="both", labelsize=8)
        ax.set_xticks(range(len(labels)), labels, rotation=20, ha="right", fontsize=8)
        ax.set_xlim(-0.6, len(labels) - 0.4)
        ax.set_ylabel("slowdown against the fleet median (above 1: slower)")
        ax.set_title("ping-pong (latency)" if pattern == "latency" else "stream (throughput)",
                     fontsize=10)
        ax.grid(True, axis="y", which="major", color="#e5e5e5", lw=0.8)
    axes[-1].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    fig.savefig(out_dir / "fleet-spread.svg", metadata={"Date": None})
    fig.savefig(out_dir / "fleet-spread.png", dpi=SAVE_DPI)
    return "fleet-spread"
