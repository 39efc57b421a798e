"""index.html: headline findings, the charts, the probes, the machine and every number; offline,
without scripts."""

from __future__ import annotations

import math
from html import escape
from pathlib import Path

from .figure import Chart
from .compare import CompareResults
from .headline import findings, reproducibility
from .layer import (
    LAYER_BASES,
    LAYER_METRICS,
    LayerTable,
    format_ratio,
    layer_table,
    missing_summary,
)
from .layer_chart import LAYER_SECTION
from .probe_text import probe_value
from .report import PATTERNS, Estimate, Report, text
from .units import format_ns, format_rate, format_size

CSS = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       color: #1d1d1f; background: #fafafa; margin: 0; }
main { max-width: 1280px; margin: 0 auto; padding: 1.5rem 2rem 4rem; }
h1 { font-size: 1.7rem; margin: 0 0 .3rem; }
h2 { font-size: 1.3rem; margin: 2.2rem 0 .6rem; padding-bottom: .2rem;
     border-bottom: 2px solid #ddd; }
h3 { font-size: 1.05rem; margin: 1.4rem 0 .4rem; }
p.lead { color: #555; margin: 0 0 1rem; }
nav { background: #fff; border: 1px solid #e3e3e3; border-radius: 6px; padding: .5rem 1rem;
      display: flex; flex-wrap: wrap; gap: .2rem 1.2rem; }
nav a { white-space: nowrap; }
a { color: #0b57d0; text-decoration: none; } a:hover { text-decoration: underline; }
table { border-collapse: collapse; background: #fff; font-size: .85rem; margin: .3rem 0 1rem; }
th, td { border: 1px solid #e1e1e1; padding: .22rem .55rem; text-align: left; vertical-align: top; }
thead th { background: #f0f2f5; position: sticky; top: 0; }
tbody tr:nth-child(even) { background: #fafbfc; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
th.key { background: #f6f7f9; font-weight: 600; white-space: nowrap; }
.verdict { font-weight: 600; white-space: nowrap; }
.holds, .improvement, td.ok { color: #17692c; }
.does-not-hold, .regression, td.failed { color: #b3261e; }
.not-applicable, .inconclusive, .untested, .no-change, td.skipped { color: #6b6b6b; }
tr.row-failed td { background: #fff4f2; }
tr.row-skipped td { background: #f4f4f4; color: #6b6b6b; }
table.numbers { display: block; overflow-x: auto; max-width: 100%; }
table.numbers td { white-space: nowrap; }
table.numbers td.status { white-space: normal; min-width: 14rem; }
td.none { color: #c4c4c4; }
td.missing { color: #6b6b6b; font-style: italic; }
ul.notes { font-size: .88rem; margin: .2rem 0 1rem; }
figure { background: #fff; border: 1px solid #e3e3e3; border-radius: 6px; margin: 0 0 1.4rem;
         padding: .8rem; }
figure img { display: block; max-width: 100%; height: auto; margin: 0 auto; }
figcaption { color: #444; font-size: .88rem; margin-top: .5rem; }
figcaption .files { white-space: nowrap; margin-left: .4rem; }
.columns { display: flex; flex-wrap: wrap; gap: 0 2rem; align-items: flex-start; }
.muted { color: #777; }
section.headline { background: #fff; border: 1px solid #d5dbe5; border-left: 4px solid #0b57d0;
                   border-radius: 6px; padding: .4rem 1.2rem .6rem; margin: .6rem 0 1rem; }
section.headline h2 { margin: .4rem 0 .3rem; border: 0; }
section.headline ul { margin: .2rem 0; padding-left: 1.1rem; }
section.headline li { margin: .25rem 0; }
details { margin: .3rem 0 1rem; }
details > summary { cursor: pointer; color: #0b57d0; }
table.probe-value { margin: .3rem 0 0; font-size: .8rem; }
table.probe-value th, table.probe-value td { padding: .1rem .4rem; }
td.claim .detail { display: block; color: #555; font-size: .8rem; margin-top: .2rem; }
tr.multimodal td { background: #fff8e6; }
td.multimodal { color: #8a4b00; font-weight: 600; }
"""

LIMIT_BYTES = {
    "page_size",
    "pipe_buf",
    "pipe_default_size",
    "pipe_max_size",
    "sysv_msgmax",
    "sysv_msgmnb",
    "posix_mq_msgsize_max",
    "net_core_rmem_default",
    "net_core_wmem_default",
    "net_core_rmem_max",
    "net_core_wmem_max",
}


def write_index(
    out_dir: Path,
    reports: list[Report],
    charts: list[Chart],
    compare: CompareResults | None,
    notes: dict[str, list[str]] | None = None,
) -> Path:
    """notes: per chart section, lines saying which chart could not be drawn and why."""
    extra = {section: _notes(lines) for section, lines in (notes or {}).items() if lines}
    layer = _layer(reports)
    if layer:
        extra[LAYER_SECTION] = layer + extra.get(LAYER_SECTION, "")
    # The answer first: findings, the verdicts of a comparison, the charts ("which should I use"
    # leads them); then the probes, the machine and mechanism details, and every number.
    parts = [_header(reports, charts, compare, list(extra)), _headline(reports),
             _nav(reports, charts, compare, list(extra))]
    if compare is not None:
        parts.append(_compare(compare, reports))
    parts += [_charts(charts, extra), _regimes(reports), _claims(reports), _probes(reports),
              _machine(reports), _numbers(reports)]
    labels = " vs ".join(r.label for r in reports)
    page = (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>ipcbench: {escape(labels)}</title>\n<style>{CSS}</style>\n</head>\n"
        f"<body><main>\n{''.join(parts)}</main></body>\n</html>\n"
    )
    path = out_dir / "index.html"
    path.write_text(page, encoding="utf-8")
    return path


def _table(head: list[str], rows: list[list[str]], key_column: bool = False) -> str:
    """A table from cells that are already HTML; with key_column the first cell is a row header."""
    thead = "".join(f"<th>{h}</th>" for h in head)
    body = []
    for row in rows:
        first = f'<th class="key">{row[0]}</th>' if key_column else _td(row[0])
        body.append("<tr>" + first + "".join(_td(c) for c in row[1:]) + "</tr>")
    return f"<table><thead><tr>{thead}</tr></thead><tbody>{''.join(body)}</tbody></table>\n"


def _td(cell: str) -> str:
    # Cells starting with a tag carry their own <td ...>.
    return cell if cell.startswith("<td") else f"<td>{cell}</td>"


def _num(value: str) -> str:
    extra = " none" if value == "—" else ""
    return f'<td class="num{extra}">{escape(value)}</td>'


def _header(
    reports: list[Report], charts: list[Chart], compare: CompareResults | None, extra: list[str]
) -> str:
    if len(reports) == 1:
        title = f"ipcbench report: {escape(reports[0].label)}"
    else:
        title = "ipcbench comparison: " + " vs ".join(escape(r.label) for r in reports)
    files = ", ".join(f"<code>{escape(str(r.path))}</code>" for r in reports)
    return (
        f'<h1>{title}</h1>\n<p class="lead">Rendered from {files}. Latency is the round trip '
        f"(RTT), not RTT/2. Every number is the median over repetitions.{_bases(reports)}</p>\n"
    )


def _bases(reports: list[Report]) -> str:
    """Which repetitions the values of each report with estimates come from."""
    return "".join(f" {escape(r.label)}: {escape(r.basis())}." for r in reports if r.estimates)


def _nav(reports: list[Report], charts: list[Chart], compare: CompareResults | None,
         extra: list[str]) -> str:
    links = [("headline", "Headline")]
    if compare is not None:
        links.append(("verdicts", "Compare verdicts"))
    links += [(_anchor(s), s) for s in _sections(charts, extra)]
    if any(r.estimates for r in reports):
        links.append(("regimes", "Regimes and stop rule"))
    if any(r.claims for r in reports):
        links.append(("claims", "Claims"))
    links += [("probes", "Probes"), ("machine", "Machine"), ("numbers", "All numbers")]
    nav = "".join(f'<a href="#{a}">{escape(t)}</a>' for a, t in links)
    return f"<nav>{nav}</nav>\n"


def _headline(reports: list[Report]) -> str:
    """Findings computed from each report (headline.py), as sentences with their numbers."""
    html = '<section class="headline" id="headline"><h2>Headline findings</h2>\n'
    for report in reports:
        if len(reports) > 1:
            html += f"<h3>{escape(report.label)}</h3>\n"
        items = "".join(
            f"<li><strong>{escape(f.topic)}.</strong> {escape(f.text)}</li>"
            for f in findings(report)
        )
        html += f"<ul>{items}</ul>\n"
    return html + "</section>\n"


def _anchor(section: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in section.lower())


MACHINE_ROWS = (
    ("Host", lambda r: r.context.get("host_name")),
    ("Date", lambda r: r.context.get("date")),
    ("CPU", lambda r: r.ipcbench.get("cpu_model")),
    ("CPUs usable", lambda r: r.ipcbench.get("cpu_count", r.context.get("num_cpus"))),
    ("MHz per CPU", lambda r: r.context.get("mhz_per_cpu")),
    ("Frequency scaling", lambda r: r.context.get("cpu_scaling_enabled")),
    ("Governor", lambda r: r.ipcbench.get("governor") or "none (no cpufreq, e.g. a VM)"),
    ("Kernel", lambda r: r.ipcbench.get("kernel")),
    ("Clock source", lambda r: r.ipcbench.get("clocksource")),
    ("Caches", lambda r: _caches(r.context.get("caches"))),
    ("Load average", lambda r: r.context.get("load_avg")),
    ("Placement", lambda r: r.ipcbench.get("placement")),
    ("CPUs", lambda r: _cpu_placement(r.ipcbench.get("cpu_placement"))),
    ("Process model", lambda r: r.ipcbench.get("process_model")),
    ("Library threads", lambda r: r.ipcbench.get("library_threads")),
    ("Sweep", lambda r: _sweep(r.ipcbench)),
    ("Target time per batch", lambda r: _seconds(r.ipcbench.get("target_time_s"))),
    ("Repetitions", lambda r: r.repetitions()),
    ("Compiler", lambda r: r.ipcbench.get("compiler")),
    ("Build type", lambda r: r.ipcbench.get("build_type")),
    ("C++ flags", lambda r: r.ipcbench.get("cxx_flags")),
    ("ipcbench version", lambda r: r.ipcbench.get("version")),
    ("Git commit", lambda r: r.ipcbench.get("git_commit")),
)


def _cpu_placement(placement) -> str:
    """The pinned CPUs and why (context.ipcbench.cpu_placement); empty for older reports."""
    if not isinstance(placement, dict):
        return text(placement)
    cpus = placement.get("cpus")
    why = text(placement.get("impossible") or placement.get("reason"))
    if not (isinstance(cpus, list) and len(cpus) == 2):
        return why or "not pinned"
    pinned = f"producer {text(cpus[0])}, consumer {text(cpus[1])}"
    return f"{pinned} ({text(placement.get('chosen_by'))}): {why}" if why else pinned


def _caches(caches) -> str:
    if not isinstance(caches, list):
        return text(caches)
    return ", ".join(
        f"L{c.get('level')} {c.get('type', '')} {format_size(c['size'])}".replace("  ", " ")
        for c in caches
        if isinstance(c, dict) and isinstance(c.get("size"), int) and c["size"] > 0
    )


def _sweep(ib: dict) -> str:
    sizes = ib.get("sizes")
    listed = (
        ", ".join(format_size(s) for s in sizes if isinstance(s, int) and s > 0)
        if isinstance(sizes, list)
        else ""
    )
    return f"{text(ib.get('sweep'))}: {listed}" if listed else text(ib.get("sweep"))


def _seconds(value) -> str:
    return (
        f"{value:g} s"
        if isinstance(value, (int, float)) and not isinstance(value, bool)
        else text(value)
    )


def _report_columns(reports: list[Report], rows, cell) -> str:
    head = [""] + [escape(r.label) for r in reports]
    body = [[escape(name)] + [cell(r, get) for r in reports] for name, get in rows]
    return _table(head, body, key_column=True)


def _cache_line(report: Report):
    """p50 of the bare cache-line round trip between the peers' CPUs, when the report has it."""
    line = report.section("calibration").get("cache_line_rtt_ns")
    return line.get("p50") if isinstance(line, dict) else None


def _machine(reports: list[Report]) -> str:
    plain = lambda r, get: escape(text(get(r)) or "—")  # noqa: E731
    limit_names = list(dict.fromkeys(k for r in reports for k in r.section("limits")))
    limits = [(k, lambda r, k=k: _limit(k, r.section("limits").get(k))) for k in limit_names]
    calibration = (
        (
            "timer (clock_gettime)",
            lambda r: _maybe(r.section("calibration").get("timer_ns"), format_ns),
        ),
        (
            "memcpy 1 MiB, hot",
            lambda r: _maybe(r.section("calibration").get("memcpy_bytes_per_second"), format_rate),
        ),
        ("cache-line round trip (floor), p50", lambda r: _maybe(_cache_line(r), format_ns)),
    )
    html = '<h2 id="machine">Machine and mechanisms</h2>\n<ul class="notes">'
    html += "".join(f"<li>{escape(r.label)}: {escape(r.machine_line())}</li>" for r in reports)
    html += "</ul>\n<details><summary>The machine: CPU, kernel, placement, build, calibration "
    html += 'and IPC limits</summary>\n<div class="columns"><div>'
    html += _report_columns(reports, MACHINE_ROWS, plain) + "</div><div>"
    html += "<h3>Calibration</h3>\n" + _report_columns(reports, calibration, plain)
    if limits:
        html += "<h3>IPC limits read at run time</h3>\n" + _report_columns(reports, limits, plain)
    html += "</div></div></details>\n"
    mechanisms = _mechanisms(reports)
    if mechanisms:
        html += ("<details><summary>The mechanisms: traits, limits and availability</summary>\n"
                 + mechanisms + "</details>\n")
    return html


def _limit(name: str, value) -> str:
    if value is None:
        return "unreadable"
    if name in LIMIT_BYTES and isinstance(value, int) and value > 0:
        return f"{value} ({format_size(value)})" if value >= 1024 else str(value)
    return text(value)


def _maybe(value, fmt) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return fmt(value)
    return text(value)


def _mechanisms(reports: list[Report]) -> str:
    seen, rows = set(), []
    for report in reports:
        for m in report.ipcbench.get("mechanisms") or []:
            if not isinstance(m, dict) or m.get("id") in seen:
                continue
            seen.add(m.get("id"))
            limit = m.get("max_message")
            limit_text = (
                "—"
                if m.get("unavailable")
                else "no limit"
                if limit is None
                else (format_size(limit) if isinstance(limit, int) and limit > 0 else text(limit))
            )
            unavailable = text(m.get("unavailable"))
            rows.append(
                [escape(text(m.get(k))) for k in ("id", "family", "kind", "wait")]
                + [escape(limit_text), escape(text(m.get("description")))]
                + [
                    f'<td class="skipped">no: {escape(unavailable)}</td>'
                    if unavailable
                    else '<td class="ok">yes</td>'
                ]
            )
    if not rows:
        return ""
    return "<h3>Mechanisms</h3>\n" + _table(
        ["id", "family", "kind", "wait", "max message", "description", "available"], rows
    )


def _regimes(reports: list[Report]) -> str:
    """Per report with estimates: its regimes (context.ipcbench.regimes) and its stop rule."""
    with_estimates = [r for r in reports if r.estimates]
    if not with_estimates:
        return ""
    html = (
        '<h2 id="regimes">Regimes and stop rule</h2>\n<p>The cache-line and wake-up round '
        "trips are measured beside every repetition; the regimes are clusters of the cache-line "
        "floor over the run, and a benchmark's values are the median over its repetitions in "
        "the reference regime (or over all of them where it has too few there).</p>\n"
    )
    for report in with_estimates:
        if len(reports) > 1:
            html += f"<h3>{escape(report.label)}</h3>\n"
        regimes = report.regimes
        if regimes is None:
            html += '<p class="muted">No regimes: no repetition had a cache-line floor.</p>\n'
        else:
            rows = [
                [escape(f"{r.index}{' (reference)' if r.index == regimes.reference else ''}")]
                + _floor_cells(r.cache_line, r.wakeup)
                + [_num(f"{r.share * 100:.0f} % ({r.repetitions})")]
                for r in regimes.regimes
            ]
            rows.append(["whole run"] + _floor_cells(regimes.cache_line, regimes.wakeup)
                        + [_num(f"100 % ({regimes.repetitions})")])
            html += _table(["regime", "cache-line round trip, median", "range",
                            "wake-up round trip, median", "share (repetitions)"], rows)
            if regimes.method:
                html += f'<p class="muted">Detector: {escape(regimes.method)}</p>\n'
        html += f"<p>{escape(reproducibility(report).text)}</p>\n"
    return html


def _floor_cells(cache_line, wakeup) -> list[str]:
    """Median and range of the cache-line floor, median of the wake-up floor; — where null."""
    return [
        _num(format_ns(cache_line.median) if cache_line else "—"),
        _num(f"{format_ns(cache_line.low)} to {format_ns(cache_line.high)}"
             if cache_line else "—"),
        _num(format_ns(wakeup.median) if wakeup else "—"),
    ]


def _ratio(row: dict) -> str:
    ratio, interval = row.get("ratio"), row.get("interval")
    if not isinstance(ratio, (int, float)):
        return "–"
    out = f"{ratio:.2f}x"
    if isinstance(interval, list) and len(interval) == 2:
        lo, hi = (f"{v:.2f}" if isinstance(v, (int, float)) else "∞" for v in interval)
        out += f" [{lo}, {hi}]"
    return out


def _claims(reports: list[Report]) -> str:
    """The textbooks' comparison as verdicts of this run, and the process, namespace and relay
    taxes when they ran."""
    if not any(r.claims or r.process_tax or r.namespace_tax or r.relay_tax for r in reports):
        return ""
    html = '<h2 id="claims">Claims: the textbooks\u2019 comparison, judged by this run</h2>\n'
    for report in reports:
        if len(reports) > 1:
            html += f"<h3>{escape(report.label)}</h3>\n"
        rows = [
            [
                f'<td class="claim">{escape(text(c.get("claim")))}'
                f'<span class="detail">Source: {escape(text(c.get("source")))}</span></td>',
                f'<td class="verdict {_anchor(text(c.get("verdict")))}">'
                f'{escape(text(c.get("verdict")))}</td>',
                escape(text(c.get("summary"))),
                escape(text(c.get("method"))),
            ]
            for c in report.claims
        ]
        if rows:
            html += _table(["claim", "verdict", "where", "method"], rows)
        for rows_of, intro, ratio_name in (
            (report.process_tax,
             "Process tax: how many times worse the same channel is with process peers than "
             "with two threads of one process (90 % interval).", "process / thread"),
            (report.namespace_tax,
             "Namespace tax: how many times worse TCP is between two network namespaces joined "
             "by a veth pair (two containers on one host) than over loopback (tcp.netns against "
             "tcp, 90 % interval).", "veth / loopback"),
            (report.relay_tax,
             "Relay tax: how many times worse a pipe is through a relay process (one extra hop) "
             "than direct (90 % interval).", "relayed / direct"),
        ):
            taxed = [
                [
                    escape(text(t.get("id"))),
                    escape(text(t.get("pattern"))),
                    escape(str(t.get("message_size"))),
                    escape(_ratio(t)),
                    f'<td class="verdict {_anchor(text(t.get("verdict")))}">'
                    f'{escape(text(t.get("verdict")))}</td>',
                ]
                for t in rows_of
            ]
            if taxed:
                html += f"<p>{escape(intro)}</p>\n" + _table(
                    ["mechanism", "pattern", "bytes", ratio_name, "verdict"], taxed
                )
    return html


def _probes(reports: list[Report]) -> str:
    html = '<h2 id="probes">Probes: textbook claims checked on this machine</h2>\n'
    if not any(r.probes for r in reports):
        return html + '<p class="muted">The report has no probes.</p>\n'
    for report in reports:
        if len(reports) > 1:
            html += f"<h3>{escape(report.label)}</h3>\n"
        rows = []
        for probe in report.probes:
            verdict = text(probe.get("verdict"))
            detail = text(probe.get("detail"))
            source = text(probe.get("source"))  # absent in reports before probes named it
            rows.append(
                [
                    f'<td class="claim">{escape(text(probe.get("claim")) or text(probe.get("id")))}'
                    + (f'<span class="detail">{escape(detail)}</span>' if detail else "")
                    + (f'<span class="detail">Source: {escape(source)}</span>' if source else "")
                    + "</td>",
                    f'<td class="verdict {_anchor(verdict)}">{escape(verdict)}</td>',
                    probe_value(probe.get("value")).html(),
                    escape(text(probe.get("method"))),
                ]
            )
        html += (
            _table(["claim and result", "verdict", "measured", "method"], rows)
            if rows
            else '<p class="muted">No probes.</p>'
        )
    return html


def _verdict_context(compare: CompareResults, reports: list[Report]) -> str:
    """One paragraph: the conditions and the statistics the verdicts stand on."""
    c = compare.context
    parts = []
    modes = []
    for r in reports:
        idle = r.section("idle_states")
        modes.append(f"{idle.get('in_force', 'unrecorded')} ({r.label})")
    if modes:
        parts.append("idle states " + ", ".join(modes))
    runs = c.get("runs")
    if isinstance(runs, dict):
        parts.append(f"runs per side {runs.get('baseline', '?')} vs {runs.get('contender', '?')}")
    if "test" in c:
        parts.append(f"test {c['test']}")
    if "alpha" in c:
        corr = c.get("correction", "none")
        family = c.get("family_size")
        what = f"alpha {c['alpha']:g}"
        if corr == "holm":
            what += f" family-wise, Holm's correction over {family} tested metrics"
        else:
            what += " per metric, no correction"
        parts.append(what)
    summary = c.get("summary")
    if isinstance(summary, dict) and summary.get("untested"):
        parts.append(f"{summary['untested']} untested (too few samples to reach the level)")
    if not parts:
        return ""
    return '<p class="verdict-context">Verdicts stand on: ' + escape("; ".join(parts)) + ".</p>\n"


def _compare(compare: CompareResults, reports: list[Report]) -> str:
    html = '<h2 id="verdicts">Compare verdicts</h2>\n' + _verdict_context(compare, reports)
    notable = compare.notable()
    if not notable:
        return (
            html
            + f"<p>No regression or improvement among {len(compare.results)} comparisons.</p>\n"
        )
    rows = []
    for r in notable:
        verdict = text(r.get("verdict"))
        ratio, p = r.get("ratio"), r.get("p_value")
        rows.append(
            [
                escape(text(r.get("name"))),
                escape(text(r.get("metric"))),
                _num(f"{ratio:.3f}" if isinstance(ratio, (int, float)) else "—"),
                _num(f"{p:.3g}" if isinstance(p, (int, float)) else "—"),
                escape(text(r.get("method"))),
                f'<td class="verdict {_anchor(verdict)}">{escape(verdict)}</td>',
            ]
        )
    html += (
        f"<p>{len(notable)} of {len(compare.results)} comparisons changed "
        "(ratio = contender / baseline of the median).</p>\n"
    )
    return html + _table(["benchmark", "metric", "ratio", "p-value", "method", "verdict"], rows)


def _sections(charts: list[Chart], extra) -> list[str]:
    """Chart sections in drawing order, then sections that have only text (the layer cost)."""
    return list(dict.fromkeys([c.section for c in charts] + list(extra)))


def _charts(charts: list[Chart], extra: dict[str, str]) -> str:
    """Each section: its heading, its text from extra (a table, notes), then its figures."""
    if not charts and LAYER_SECTION not in extra:
        html = '<h2>Charts</h2>\n<p class="muted">No chart: no benchmark has a value to plot.</p>\n'
        return html + "".join(extra.values())
    html = ""
    for section in _sections(charts, extra):
        html += f'<h2 id="{_anchor(section)}">{escape(section)}</h2>\n' + extra.get(section, "")
        for chart in (c for c in charts if c.section == section):
            html += (
                f'<figure id="{escape(chart.stem)}"><img src="{escape(chart.stem)}.svg" '
                f'alt="{escape(chart.title)}">\n<figcaption>{escape(chart.caption)}'
                f'<span class="files"><a href="{escape(chart.stem)}.svg">SVG</a> · '
                f'<a href="{escape(chart.stem)}.png">PNG</a></span></figcaption></figure>\n'
            )
    return html


def _notes(lines: list[str]) -> str:
    items = "".join(f"<li>{escape(line)}</li>" for line in lines)
    return f'<ul class="notes muted">{items}</ul>\n'


def _layer(reports: list[Report]) -> str:
    """The layer-cost text: the bases and why, then per report the ratios and what is missing."""
    tables = [(r, layer_table(r)) for r in reports]
    if not any(t for _, t in tables):
        return ""
    metrics = "; ".join(f"{m.name} ({m.pattern}): {m.formula}" for m in LAYER_METRICS)
    html = (
        '<p>Each middleware against the raw kernel mechanism it rides on. Every ratio reads the '
        "same way: above 1 is the factor the layer costs, below 1 a gain. Ratios of the medians "
        f"over repetitions: {escape(metrics)}. A ratio needs both sides; a side that was "
        "skipped, failed, unavailable or not run is named instead, with its reason below the "
        "table.</p>\n"
    )
    used = list(dict.fromkeys(p.id for _, t in tables for p in t.pairs))
    html += _table(
        ["middleware", "rides on", "why"],
        [[escape(i), escape(LAYER_BASES[i][0]), escape(LAYER_BASES[i][1])] for i in used],
    )
    for report, table in tables:
        if not table:
            continue
        if len(reports) > 1:
            html += f"<h3>{escape(report.label)}</h3>\n"
        html += _layer_ratios(table)
    return html


def _layer_ratios(table: LayerTable) -> str:
    sizes = sorted({c.size for p in table.pairs for c in p.cells})
    rows = []
    for pair in table.pairs:
        for metric in LAYER_METRICS:
            cells = {c.size: c for c in pair.metric_cells(metric)}
            if not cells:
                continue
            row = [escape(pair.series), escape(pair.base), escape(f"{metric.name}")]
            for size in sizes:
                cell = cells.get(size)
                if cell is None:
                    row.append(_num("—"))
                elif cell.missing:
                    short = "; ".join(
                        f"{'base' if s is cell.base else 'middleware'} {s.short}"
                        for s in (cell.middleware, cell.base)
                        if s.missing
                    ) or "—"
                    row.append(f'<td class="num missing" title="{escape(cell.missing)}">'
                               f"{escape(short)}</td>")
                else:
                    title = (
                        f"{pair.series} {metric.fmt(cell.middleware.value)}, "
                        f"{pair.base} {metric.fmt(cell.base.value)}"
                    )
                    row.append(f'<td class="num" title="{escape(title)}">'
                               f"{escape(format_ratio(cell.ratio))}</td>")
            rows.append(row)
    html = ""
    if rows:
        head = ["middleware", "base", "ratio of"] + [escape(format_size(s)) for s in sizes]
        html += _table(head, rows).replace("<table>", '<table class="layer">', 1)
    missing = [line for pair in table.pairs for line in missing_summary(pair)]
    if table.unmapped:
        missing.append(
            "no raw mechanism mapped (plots/ipcbench_plots/layer.py LAYER_BASES): "
            + ", ".join(table.unmapped)
        )
    if missing:
        html += "<p>Missing sides and ids:</p>\n" + _notes(missing)
    return html


NUMBER_COLUMNS = [
    "id",
    "family",
    "pattern",
    "size",
    "p50 RTT",
    "p90 RTT",
    "p99 RTT",
    "p99.9 RTT",
    "max RTT",
    "throughput",
    "CPU / message",
    "reps",
    "status",
]
ESTIMATE_COLUMN = "estimate: interval, modes, stop"
ESTIMATE_FORMATS = {"rtt_p50_ns": format_ns, "bytes_per_second": format_rate}
RTT_KEYS = ("rtt_p50_ns", "rtt_p90_ns", "rtt_p99_ns", "rtt_p999_ns", "rtt_max_ns")


def _numbers(reports: list[Report]) -> str:
    html = (
        '<h2 id="numbers">All numbers</h2>\n<p>Median over repetitions. RTT: round-trip time '
        "of the ping-pong pattern; throughput: payload bytes per second of the stream pattern; "
        f"CPU: user+sys of both peers per message (per round trip in ping-pong).{_bases(reports)}"
        "</p>\n"
    )
    if any(r.estimates for r in reports):
        html += (
            f"<p>The “{ESTIMATE_COLUMN}” column: the confidence interval of the median of "
            "p50 RTT (latency) or throughput, the modes of a multimodal benchmark (its row is "
            "marked: its median is not a number any repetition had), why its repetitions "
            "stopped (converged, cap, budget) and how many of them the values stand on.</p>\n"
        )
    for report in reports:
        if len(reports) > 1:
            html += f"<h3>{escape(report.label)}</h3>\n"
        html += _number_table(report)
    return html


def _number_table(report: Report) -> str:
    rows = []
    for series in report.series():
        for pattern in PATTERNS:
            for size in report.all_sizes(pattern):
                cell = report.cell(series, pattern, size)
                if cell is not None:
                    rows.append(_number_row(series, cell, bool(report.estimates)))
    columns = NUMBER_COLUMNS + ([ESTIMATE_COLUMN] if report.estimates else [])
    head = "".join(f"<th>{c}</th>" for c in columns)
    body = "".join(rows)
    return f'<table class="numbers"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>\n'


def _number_row(series: str, cell, estimates: bool) -> str:
    def value(key: str, fmt) -> str:
        v = cell.values.get(key, math.nan)
        return _num(fmt(v) if math.isfinite(v) else "—")

    status = "ok" if cell.ok else f"{cell.status}: {cell.reason}"
    cells = [
        f"<td>{escape(series)}</td>",
        f"<td>{escape(cell.family)}</td>",
        f"<td>{escape(cell.pattern)}</td>",
        _num(format_size(cell.size)),
    ]
    cells += [value(k, format_ns) for k in RTT_KEYS]
    cells += [
        value("bytes_per_second", format_rate),
        value("cpu_ns_per_message", format_ns),
        _num(str(cell.repetitions)),
        f'<td class="status {_anchor(cell.status)}">{escape(status)}</td>',
    ]
    multimodal = cell.estimate is not None and cell.estimate.multimodal
    if estimates:
        cells.append(_estimate_cell(cell.estimate) if cell.estimate else _num("—"))
    row_class = f"row-{_anchor(cell.status)}" + (" multimodal" if multimodal else "")
    return f"<tr class=\"{row_class}\">{''.join(cells)}</tr>"


def _estimate_cell(estimate: Estimate) -> str:
    """"CI lo–hi; converged, 4 of 6 repetitions (basis: regime 0)", led by the modes when
    multimodal, followed by the spread's cause where the report names one; only why it stopped
    without a value."""
    if estimate.value is None:
        return f'<td class="status">{escape(estimate.stopped)}</td>'
    fmt = ESTIMATE_FORMATS.get(estimate.metric, "{:.4g}".format)
    basis = f"regime {estimate.regime}" if estimate.basis == "regime" else estimate.basis
    parts = [estimate.interval_text(fmt), f"{estimate.stopped}, {estimate.used} of "
             f"{estimate.repetitions} repetitions (basis: {basis})"]
    if estimate.multimodal:
        parts.insert(0, f"multimodal, {estimate.modes_text(fmt)}")
    else:
        spread = f"spread {estimate.spread:.1f}x: " if estimate.spread else ""
        if estimate.outlier_ratio and estimate.outlier_rest_spread:
            parts.append(f"{spread}one repetition alone, at {estimate.outlier_ratio:.2f}x the "
                         f"others' median (they lie within {estimate.outlier_rest_spread:.2f}x)")
            spread = ""
        if estimate.spread_cause:
            parts.append(f"{spread}{estimate.spread_cause}")
    css = "status multimodal" if estimate.multimodal else "status"
    return f'<td class="{css}">{escape("; ".join(p for p in parts if p))}</td>'
