"""The offline trend page: one small chart per series (machine, mode, benchmark) with its change
points marked, the list of changes on top, and the fleet view of each machine's newest report
beside it (plots/render.py --fleet, when two machines' newest reports are still on disk).
No script, no network: inline SVG and one HTML file.
"""

import html
import math
import sys
from pathlib import Path

from . import detect, store

_COLOURS = {"regression": "#c0392b", "improvement": "#1e8449", "host moved": "#7f8c8d"}


def _chart(s, changes) -> str:
    w, h, pad = 320, 90, 6
    values = [math.log(p.value) for p in s.points]
    lo, hi = min(values), max(values)
    span = hi - lo or 1.0
    n = len(values)

    def x(i):
        return pad + (w - 2 * pad) * (i / (n - 1) if n > 1 else 0.5)

    def y(v):
        return h - pad - (h - 2 * pad) * (v - lo) / span

    marks = []
    for c in changes:
        kind = "host moved" if c.explained_by else ("regression" if c.regression else
                                                    "improvement")
        xc = (x(c.index - 1) + x(c.index)) / 2
        marks.append(f'<line x1="{xc:.1f}" x2="{xc:.1f}" y1="0" y2="{h}" stroke="'
                     f'{_COLOURS[kind]}" stroke-width="2" stroke-dasharray="4 2">'
                     f"<title>{html.escape(kind)} {(c.ratio - 1) * 100:+.1f} %</title></line>")
    points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
    dots = "".join(f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="2"><title>'
                   f"{html.escape(p.date)} {html.escape(str(p.commit or '?')[:12])}: "
                   f"{p.value:.4g}</title></circle>"
                   for i, (v, p) in enumerate(zip(values, s.points)))
    return (f'<svg width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img">'
            f'<rect width="{w}" height="{h}" fill="#fafafa"/>{"".join(marks)}'
            f'<polyline points="{points}" fill="none" stroke="#2c3e50"/>{dots}</svg>')


def _fleet(db, out: Path) -> str:
    newest = {}
    for machine, source, date in db.execute(
            "SELECT machine, source, date FROM runs ORDER BY date"):
        newest[machine] = source
    sources = [Path(p) for p in newest.values() if Path(p).is_file()]
    if len(newest) < 2:
        return "<p>One machine in the history: no fleet view.</p>"
    if len(sources) < 2:
        return "<p>The newest reports of the machines are no longer on disk: no fleet view.</p>"
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "plots"))
    try:
        from ipcbench_plots import fleet, report  # noqa: PLC0415 (optional: matplotlib)
        reports = [report.load_report(p, str(i)) for i, p in enumerate(sources)]
        fleet.write_fleet(out / "fleet", fleet.line_up(reports))
    except Exception as error:  # the trend page stands without it
        return f"<p>No fleet view: {html.escape(str(error))}</p>"
    return ('<p><a href="fleet/index.html">The fleet view</a> of each machine\'s newest report '
            f"({len(sources)} machines).</p>")


def write(db, out: Path, machine=None, benchmark=None) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    all_series = store.series(db, machine, benchmark)
    by_machine: dict = {}
    for s in all_series:
        changes = (detect.analyse(s.points, s.metric, store.lower_is_better(s.metric))
                   if len(s.points) >= 2 * detect.MIN_SEGMENT else [])
        by_machine.setdefault((s.machine, s.mode), []).append((s, changes))
        for c in changes:
            kind = "host moved" if c.explained_by else ("regression" if c.regression else
                                                        "improvement")
            p = s.points[c.index]
            rows.append((p.date, kind, s, c))
    rows.sort(key=lambda r: r[0], reverse=True)
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>ipcbench history</title>",
             "<style>body{font-family:sans-serif;margin:1.5em}figure{display:inline-block;"
             "margin:4px;font-size:12px}table{border-collapse:collapse}td,th{padding:2px 8px;"
             "border-bottom:1px solid #ddd;text-align:left}</style></head><body>",
             "<h1>ipcbench history</h1>",
             f"<p>{db.execute('SELECT COUNT(*) FROM runs').fetchone()[0]} runs, "
             f"{len(all_series)} series. Change points: E-divisive means with a t-test "
             f"(p &le; {detect.MAX_PVALUE}); steps within a series' A/A noise are not shown, "
             "and steps the floors explain are grey (the host moved).</p>",
             _fleet(db, out), "<h2>Changes</h2>"]
    if rows:
        parts.append("<table><tr><th>from</th><th>kind</th><th>benchmark</th><th>machine</th>"
                     "<th>step</th><th>commit</th></tr>")
        for date, kind, s, c in rows:
            before = s.points[c.index - 1].commit
            after = s.points[c.index].commit
            parts.append(
                f"<tr><td>{html.escape(date)}</td><td style='color:{_COLOURS[kind]}'>{kind}"
                f"</td><td>{html.escape(s.benchmark)}</td><td>{html.escape(s.machine)}</td>"
                f"<td>{(c.ratio - 1) * 100:+.1f} %</td><td>{html.escape(str(before)[:12])} "
                f"&rarr; {html.escape(str(after)[:12])}</td></tr>")
        parts.append("</table>")
    else:
        parts.append("<p>None.</p>")
    for (m, mode), items in sorted(by_machine.items()):
        parts.append(f"<h2>{html.escape(m)} [{html.escape(mode)}]</h2>")
        for s, changes in items:
            parts.append(f"<figure>{_chart(s, changes)}<figcaption>{html.escape(s.benchmark)} "
                         f"({'p50 round trip' if s.metric == 'rtt_p50_ns' else 'throughput'}, "
                         f"{len(s.points)} runs)</figcaption></figure>")
    parts.append("</body></html>\n")
    path = out / "index.html"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
