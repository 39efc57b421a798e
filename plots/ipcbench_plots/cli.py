"""The command line: read reports, draw every chart, write index.html, print its path."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .compare import CompareResults, load_compare
from .report import Report, ReportError, load_report

PLOTS_DIR = Path(__file__).resolve().parent.parent
PROG = "render.py"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        # One line, like every other bad-input message of this tool.
        print(f"{PROG}: {message} (see --help)", file=sys.stderr)
        sys.exit(2)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = _Parser(
        prog=PROG,
        description="Render charts and an offline index.html from ipcbench "
        "reports. With several reports the charts are overlaid and ratio heatmaps "
        "compare each report with the first (the baseline). --fleet lines up the reports "
        "of N machines instead; --docs writes the README's pictures into docs/run/.",
    )
    parser.add_argument(
        "reports",
        nargs="+",
        type=Path,
        metavar="REPORT.json",
        help="report(s) written by run_all.sh; the first is the baseline",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--fleet",
        action="store_true",
        help="the reports come from different machines (2 or more): line them up per "
        "benchmark and flag the outlier machines (plots/README.md says the rule)",
    )
    mode.add_argument(
        "--docs",
        action="store_true",
        help="one report: write two or three chart PNGs, the headline findings "
        "(headline.md), the machine (README.md) and a compressed copy of the report (each "
        "repetition cut to what these read) into docs/run/ (or --out), and update the README's "
        "pictures",
    )
    parser.add_argument(
        "--normalise",
        choices=("wake", "line"),
        help="with --fleet: divide by each machine's own floors: latency by its wake-up "
        "round trip (wake) or its cache-line round trip (line), throughput by its "
        "cross-core copy floor",
    )
    parser.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="output folder (default: plots/out/<stem>, plots/out/compare-<a>-vs-<b>, "
        "plots/out/fleet-<a>-and-<N>-more with --fleet, docs/run/ with --docs)",
    )
    parser.add_argument(
        "--compare-json",
        type=Path,
        metavar="FILE",
        help="the compare tool's JSON for the first two reports: outlines the "
        "cells it judged a regression or an improvement",
    )
    args = parser.parse_args(argv)
    if args.normalise and not args.fleet:
        parser.error("--normalise needs --fleet")
    if (args.fleet or args.docs) and args.compare_json is not None:
        parser.error("--compare-json goes with neither --fleet nor --docs")
    return args


def _labels(paths: list[Path]) -> list[str]:
    """Report labels: file stems, numbered where two reports share a stem."""
    labels = []
    for path in paths:
        label, n = path.stem, 2
        while label in labels:
            label, n = f"{path.stem}#{n}", n + 1
        labels.append(label)
    return labels


def default_out_dir(labels: list[str], fleet: bool = False) -> Path:
    if fleet:
        name = f"fleet-{labels[0]}-and-{len(labels) - 1}-more"
    else:
        name = labels[0] if len(labels) == 1 else "compare-" + "-vs-".join(labels)
    return PLOTS_DIR / "out" / name.replace("#", "_")


def render(reports: list[Report], compare: CompareResults | None, out_dir: Path) -> Path:
    """Draw every chart into out_dir and write index.html there; returns its path."""
    # matplotlib loads only once the input is known to be good: bad input fails fast.
    from . import heatmap, layer_chart, lines, ranking, topology
    from .figure import LATENCY, THROUGHPUT, ChartWriter
    from .html import write_index
    from .units import KIB, MIB

    out_dir.mkdir(parents=True, exist_ok=True)
    writer = ChartWriter(reports, out_dir)
    try:
        # "Which should I use" leads; each metric's family charts come before its overview.
        drawn = [
            ranking.ranking_chart(writer, LATENCY, 64),
            ranking.ranking_chart(writer, LATENCY, 0),
            ranking.ranking_chart(writer, THROUGHPUT, MIB),
        ]
        notes: dict[str, list[str]] = {}
        for spec in lines.SIZE_CHARTS:
            for family in writer.families() + [None]:
                chart = lines.size_chart(writer, spec, family)
                drawn.append(chart)
                note = lines.missing_note(writer, spec, family) if chart is None and family else ""
                if note:
                    notes.setdefault(spec.section, []).append(note)
        drawn += [lines.spectrum_chart(writer, size) for size in (64, 4 * KIB)]
        drawn += [layer_chart.layer_chart(writer, pattern) for pattern in ("latency", "throughput")]
        drawn += topology.topology_charts(writer)
        for contender in range(1, len(reports)):
            drawn += [
                heatmap.heatmap_chart(writer, metric, contender, compare)
                for metric in heatmap.HEATMAP_METRICS
            ]
        writer.finish()
    finally:
        writer.wait()
    return write_index(out_dir, reports, [c for c in drawn if c is not None], compare, notes)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out_dir = args.out
    try:
        if args.fleet and len(args.reports) < 2:
            raise ReportError("--fleet needs reports from 2 or more machines")
        if args.docs and len(args.reports) != 1:
            raise ReportError("--docs takes one report")
        labels = _labels(args.reports)
        reports = [load_report(path, label) for path, label in zip(args.reports, labels)]
        if args.fleet:
            from .fleet import line_up, write_fleet

            out_dir = args.out or default_out_dir(labels, fleet=True)
            print(write_fleet(out_dir, line_up(reports, args.normalise)))
            return 0
        if args.docs:
            from .docs import DOCS_DIR, write_docs

            out_dir = args.out or DOCS_DIR
            print(write_docs(reports[0], out_dir))
            return 0
        compare = None
        if args.compare_json is not None:
            if len(reports) < 2:
                raise ReportError("--compare-json needs two reports")
            compare = load_compare(args.compare_json)
        out_dir = args.out or default_out_dir(labels)
        index = render(reports, compare, out_dir)
    except ReportError as error:
        print(f"{PROG}: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(
            f"{PROG}: cannot write '{error.filename or out_dir}': {error.strerror or error}",
            file=sys.stderr,
        )
        return 1
    print(index)
    return 0
