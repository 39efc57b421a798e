"""Rendering the fixtures: the files, the gaps, the table, the overlay and the heatmaps."""

import json
import math
import re
import sys
import tempfile
import unittest
from pathlib import Path

PLOTS_DIR = Path(__file__).resolve().parents[1]
if str(PLOTS_DIR) not in sys.path:
    sys.path.insert(0, str(PLOTS_DIR))

from ipcbench_plots import figure, heatmap, lines  # noqa: E402
from ipcbench_plots.cli import render  # noqa: E402
from ipcbench_plots.compare import load_compare  # noqa: E402
from ipcbench_plots.report import load_report  # noqa: E402

FIXTURES = PLOTS_DIR / "tests" / "fixtures"


def load(*names: str):
    return [load_report(FIXTURES / f"{n}.json", n) for n in names]


def chart_stems(index: Path) -> list[str]:
    return re.findall(r'<img src="([^"]+)\.svg"', index.read_text(encoding="utf-8"))


class RenderedReport(unittest.TestCase):
    """A fixture report rendered once into a temporary folder (`fixture`, `stem`)."""

    fixture, stem = "report-a", "a"

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="ipcbench-plots-")
        cls.out = Path(cls.tmp.name) / cls.stem
        cls.index = render(load(cls.fixture), None, cls.out)
        cls.html = cls.index.read_text(encoding="utf-8")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()


class SingleReportTest(RenderedReport):
    def test_every_chart_has_svg_and_png(self):
        stems = chart_stems(self.index)
        expected = {
            "throughput-overview",
            "throughput-pipes-fifos",
            "throughput-sockets",
            "throughput-message-queues",
            "latency-overview",
            "latency-sockets",
            "cpu-overview",
            "cpu-message-queues",
            "spectrum-64B",
            "spectrum-4KiB",
            "ranking-latency-64B",
            "ranking-throughput-1MiB",
        }
        self.assertLessEqual(expected, set(stems))
        self.assertFalse([s for s in stems if s.startswith("heatmap")])
        for stem in stems:
            for ext in ("svg", "png"):
                path = self.out / f"{stem}.{ext}"
                self.assertGreater(path.stat().st_size, 1000, path)
        self.assertTrue((self.out / "throughput-overview.png").read_bytes().startswith(b"\x89PNG"))

    def test_page_is_offline_and_scriptless(self):
        self.assertNotIn("<script", self.html)
        self.assertIsNone(re.search(r'(src|href)="(https?:)?//', self.html))

    def test_page_order_answers_first(self):
        # Headline, "which should I use", family charts before the overview, then the probes,
        # the machine (collapsed) and every number.
        positions = [
            self.html.index(s)
            for s in (
                'id="headline"',
                'id="ranking-latency-64B"',
                'id="throughput-pipes-fifos"',
                'id="throughput-overview"',
                'id="probes"',
                'id="machine"',
                'id="numbers"',
            )
        ]
        self.assertEqual(positions, sorted(positions))
        self.assertLess(self.html.index("<details>"), self.html.index("Clock source"))

    def test_headline_and_probe_values_in_words(self):
        self.assertIn("<strong>Textbook claims.</strong> 2 of 4 textbook claims", self.html)
        self.assertIn("pipe_buf: 4096; interleaved_writes: 0", self.html)
        self.assertIn("64: shm.spin; 1048576: pipe", self.html)
        probes = self.html[self.html.index('id="probes"'):self.html.index('id="machine"')]
        self.assertNotIn("{&quot;", probes)
        self.assertNotIn('{"', probes)
        for text in (
            "tsc",
            "PREEMPT_DYNAMIC",
            "9.5 GB/s",
            "18.5 ns",
            "does not hold",
            "writes of at most PIPE_BUF bytes",
            # Where the claim comes from, for a probe that names it; none for those that do not.
            "Source: man 7 pipe (pipe capacity)",
        ):
            self.assertIn(text, self.html)
        self.assertEqual(probes.count("Source: "), 1)

    def test_no_estimate_marks_without_estimates(self):
        body = self.html.split("</style>")[1]
        for text in ("Whiskers", "regime", "CI ", "multimodal", "estimate"):
            self.assertNotIn(text, body)
        svg = (self.out / "ranking-latency-64B.svg").read_text(encoding="utf-8")
        self.assertIn("median of 3 repetitions", svg)
        self.assertNotIn("[CI", svg)

    def test_table_says_skipped_and_failed(self):
        self.assertIn("skipped: message size 65536 exceeds max_message 8192", self.html)
        self.assertIn("failed: integrity: 3 messages lost", self.html)

    def test_charts_say_rtt_unit_and_machine(self):
        svg = (self.out / "latency-overview.svg").read_text(encoding="utf-8")
        self.assertIn("RTT", self.html)
        # SVG text is drawn as paths; the title and axis labels survive as comments.
        for text in ("round trip (RTT)", "Xeon", "Linux 6.1.0-18-amd64", "2024-05-02", "PIPE_BUF"):
            self.assertIn(text, svg)


class EstimatesRenderTest(RenderedReport):
    """report-estimates.json: intervals, a tie, a multimodal bar, the regime of the values."""

    fixture, stem = "report-estimates", "estimates"

    def svg(self, stem: str) -> str:
        return (self.out / f"{stem}.svg").read_text(encoding="utf-8")

    def test_ranking_labels_carry_intervals_ties_and_modes(self):
        latency = self.svg("ranking-latency-64B")
        self.assertIn("414 ns [CI 406 ns–422 ns]  (p99 663 ns)", latency)
        self.assertIn("421 ns [CI 413 ns–429 ns], tie with posix_shm.spin  (p99 674 ns)", latency)
        self.assertIn("3.02 µs [CI 2.96 µs–3.08 µs]  (p99", latency)  # no tie: apart
        throughput = self.svg("ranking-throughput-1MiB")
        self.assertIn("9.67 GB/s [CI 8.82 GB/s–10.6 GB/s]", throughput)
        self.assertIn("2 modes: 8.91 GB/s (50 %) and 10.5 GB/s (50 %)", throughput)
        self.assertIn("multimodal: median of its modes", throughput)

    def test_charts_and_captions_say_which_regime(self):
        regime = "values in regime 0 (cache line ~125 ns, 65 % of the run)"
        for stem in ("ranking-latency-64B", "latency-overview"):
            self.assertIn(regime, self.svg(stem))
        self.assertIn("Whiskers: the confidence interval of each median; overlapping whiskers "
                      "are a tie.", self.html)
        self.assertIn("Values in regime 0 (cache line ~125 ns, 65 % of the run)", self.html)

    def test_regimes_and_stop_rule_section(self):
        section = self.html[self.html.index('<h2 id="regimes">'):self.html.index('id="probes"')]
        self.assertIn('<a href="#regimes">', self.html)
        self.assertLess(self.html.index('id="ranking-latency-64B"'),
                        self.html.index('<h2 id="regimes">'))
        for row in (
            ["0 (reference)", "125 ns", "106 ns to 128 ns", "4.99 µs", "65 % (125)"],
            ["1", "549 ns", "541 ns to 556 ns", "7.49 µs", "35 % (67)"],
            ["whole run", "128 ns", "106 ns to 556 ns", "5.09 µs", "100 % (192)"],
        ):
            self.assertIn(f"<td>{row[0]}</td>" + "".join(
                f'<td class="num">{c}</td>' for c in row[1:]), section)
        self.assertIn("Stop rule: repetitions until the 85 % confidence interval", section)
        self.assertIn("28 converged, 6 hit the cap, 1 ran out of the time budget", section)

    def test_table_marks_multimodal_cells_and_gives_each_estimate(self):
        marked = re.findall(r'<tr class="row-ok multimodal">(.*?)</tr>', self.html)
        self.assertEqual(len(marked), 1)
        self.assertIn("<td>posix_shm.spin</td><td>shared memory &amp; mmap</td>"
                      "<td>throughput</td>", marked[0])
        self.assertIn('<td class="status multimodal">multimodal, 2 modes: 8.91 GB/s (50 %) and '
                      "10.5 GB/s (50 %) — producer CPU per message 1.2x higher in the slow mode; "
                      "CI 8.82 GB/s–10.6 GB/s; cap, 4 of 6 repetitions (basis: regime 0)</td>",
                      marked[0])
        self.assertIn("CI 406 ns–422 ns; converged, 4 of 6 repetitions (basis: regime 0)",
                      self.html)
        self.assertIn("CI 11 µs–16.9 µs; cap, 6 of 6 repetitions (basis: all)", self.html)
        self.assertIn("ran out", self.html)
        self.assertIn('<td class="status">failed</td></tr>', self.html)

    def test_estimate_cell_names_the_cause_of_a_spread_without_modes(self):
        import dataclasses

        from ipcbench_plots import html

        estimate = load("report-estimates")[0].cell("posix_shm.spin", "latency", 64).estimate
        self.assertNotIn("spread", html._estimate_cell(estimate))
        cause = "the wake-up floor beside the slowest repetition (2.0x the fastest) is 3.0x " \
                "the fastest's"
        cell = html._estimate_cell(dataclasses.replace(estimate, spread=2.04,
                                                       spread_cause=cause))
        self.assertIn("(basis: regime 0); spread 2.0x: the wake-up floor beside the slowest "
                      "repetition (2.0x the fastest) is 3.0x the fastest&#x27;s</td>", cell)

    def test_estimate_cell_names_a_spread_that_one_repetition_makes_alone(self):
        import dataclasses

        from ipcbench_plots import html

        estimate = load("report-estimates")[0].cell("posix_shm.spin", "latency", 64).estimate
        lone = dataclasses.replace(estimate, spread=2.04, outlier_ratio=2.0,
                                   outlier_rest_spread=1.08)
        self.assertIn("(basis: regime 0); spread 2.0x: one repetition alone, at 2.00x the "
                      "others&#x27; median (they lie within 1.08x)</td>", html._estimate_cell(lone))
        cause = "the wake-up floor beside the slowest repetition is 3.0x the fastest's"
        cell = html._estimate_cell(dataclasses.replace(lone, spread_cause=cause))
        self.assertIn("(they lie within 1.08x); the wake-up floor beside the slowest repetition "
                      "is 3.0x the fastest&#x27;s</td>", cell)

    def test_multimodal_bar_is_hollow_with_its_modes_and_interval(self):
        from matplotlib.figure import Figure

        from ipcbench_plots import ranking

        writer = figure.ChartWriter(load("report-estimates"), Path("/nonexistent"))
        ax = Figure().subplots()
        bars = ranking._Bars(ax, figure.THROUGHPUT, 1048576, 1e9, 1)
        for row, name in enumerate(("posix_shm.spin", "posix_shm.futex")):
            ranking._bar(writer, bars, 0, name, row, "posix_shm.spin")
        hollow, solid = ax.patches
        self.assertEqual(tuple(hollow.get_facecolor()), (1.0, 1.0, 1.0, 1.0))
        self.assertNotEqual(tuple(solid.get_facecolor()), (1.0, 1.0, 1.0, 1.0))
        modes = [line for line in ax.get_lines() if line.get_marker() == "D"]
        self.assertEqual([list(line.get_xdata()) for line in modes],
                         [[8906668269.45, 10460545867.8]])
        self.assertEqual(len(ax.collections), 2)  # one interval whisker per bar


class ChartWriterTest(unittest.TestCase):
    """Charts are written by forked processes: every file is there once finish() returns, and a
    chart that could not be written is an OSError naming its file, not a missing picture."""

    def _figure(self):
        from matplotlib.figure import Figure

        fig = Figure(figsize=(2, 2), layout="constrained")
        fig.subplots().plot([1, 2], [1, 2])
        return fig

    def test_every_chart_is_written_once_finish_returns(self):
        with tempfile.TemporaryDirectory(prefix="ipcbench-plots-") as tmp:
            writer = figure.ChartWriter(load("report-estimates"), Path(tmp), jobs=2)
            stems = [writer.save(self._figure(), "c", "s", "t", "").stem for _ in range(5)]
            writer.finish()
            self.assertEqual(stems, ["c", "c-2", "c-3", "c-4", "c-5"])
            for stem in stems:
                for ext in ("svg", "png"):
                    self.assertGreater((Path(tmp) / f"{stem}.{ext}").stat().st_size, 0)

    def test_a_chart_that_cannot_be_written_fails_the_render_naming_it(self):
        with tempfile.TemporaryDirectory(prefix="ipcbench-plots-") as tmp:
            missing = Path(tmp) / "gone"
            writer = figure.ChartWriter(load("report-estimates"), missing, jobs=2)
            import contextlib
            import io

            with contextlib.redirect_stderr(io.StringIO()):
                writer.save(self._figure(), "lost", "s", "t", "")
                with self.assertRaises(OSError) as raised:
                    writer.finish()
            self.assertEqual(raised.exception.filename, str(missing / "lost.svg"))
            writer.finish()  # told once: nothing left to wait for


class SubtitleTest(unittest.TestCase):
    """A subtitle line wider than its figure is wrapped at words, and stays inside the figure."""

    def test_a_long_subtitle_line_is_wrapped_inside_the_figure(self):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.text import Annotation

        basis = ("Values in regime 0 (cache line ~384 ns, 100 % of the run); latency taken to "
                 "the run's median floor (regimes.latency_to_floor); throughput taken to the "
                 "run's pace beside each repetition (estimates' at_run_pace)")
        for width in (5.0, 11.0):
            fig = Figure(figsize=(width, 4), layout="constrained")
            FigureCanvasAgg(fig)
            figure.titles(fig, "A title", ["vm · CPU ×2 · Linux 6.18 · 2026-11-28", basis])
            fig.subplots().plot([1, 2], [1, 2])
            fig.canvas.draw()
            note = next(a for a in fig.artists if isinstance(a, Annotation))
            shown = note.get_text().split("\n")
            self.assertGreater(len(shown), 2, shown)  # the long line took two or more
            self.assertEqual(" ".join(shown[1:]), basis)  # every word, in order
            box = note.get_window_extent()
            self.assertGreaterEqual(box.x0, 0, (width, shown))
            self.assertLessEqual(box.x1, fig.bbox.width, (width, shown))
        # A line that fits is left alone.
        self.assertEqual(figure.subtitle_lines(["vm · CPU ×2"], 11.0), ["vm · CPU ×2"])


class NothingToDrawTest(unittest.TestCase):
    def test_all_skipped_report_still_gets_its_page(self):
        (report,) = load("report-a")
        for cell in report.cells.values():
            cell.status, cell.reason, cell.values, cell.percentiles = (
                "skipped",
                "no such size",
                {},
                {},
            )
        with tempfile.TemporaryDirectory(prefix="ipcbench-plots-") as tmp:
            index = render([report], None, Path(tmp) / "skipped")
            self.assertEqual(chart_stems(index), [])
            self.assertIn("skipped: no such size", index.read_text(encoding="utf-8"))


class ThreadPeersTest(unittest.TestCase):
    """A report of --peers processes,threads: thread peers are a series of their own."""

    def test_thread_entries_do_not_merge_with_process_entries(self):
        import copy

        from tests.helpers import load_data

        data = json.loads((FIXTURES / "report-a.json").read_text(encoding="utf-8"))
        ours = [
            e for e in data["benchmarks"]
            if e.get("id") == "pipe" and e.get("run_type") == "iteration"
        ]
        self.assertTrue(ours)
        for entry in ours:
            twin = copy.deepcopy(entry)
            twin["process"] = "threads"
            for field in ("name", "run_name"):
                if field in twin:
                    twin[field] = twin[field].replace("/cross", "/cross.threads", 1)
            data["benchmarks"].append(twin)
        data.pop("estimates", None)
        report = load_data(data)
        series = {key[0] for key in report.cells}
        self.assertIn("pipe (cross)", series)
        self.assertIn("pipe (cross.threads)", series)


class ClaimsTest(unittest.TestCase):
    """The report's computed claims and process tax get a section of the page, as text."""

    def test_claims_and_process_tax_are_on_the_page(self):
        from tests.helpers import load_data

        data = json.loads((FIXTURES / "report-a.json").read_text(encoding="utf-8"))
        data["claims"] = [
            {"id": "fifo_as_pipe", "claim": "a FIFO, once open, performs as an anonymous pipe",
             "source": "tutorial 003, section 2", "method": "fifo against pipe",
             "verdict": "split", "summary": "holds at latency 64 B; refuted at throughput 64 B",
             "rows": []}
        ]
        data["process_tax"] = [
            {"id": "pipe", "pattern": "latency", "message_size": 64, "ratio": 1.25,
             "interval": [1.1, 1.4], "verdict": "processes slower"}
        ]
        report = load_data(data)
        self.assertEqual(len(report.claims), 1)
        with tempfile.TemporaryDirectory(prefix="ipcbench-plots-") as tmp:
            page = render([report], None, Path(tmp) / "claims").read_text(encoding="utf-8")
        self.assertIn('id="claims"', page)
        self.assertIn("holds at latency 64 B; refuted at throughput 64 B", page)
        self.assertIn("1.25x [1.10, 1.40]", page)
        self.assertIn("processes slower", page)

    def test_namespace_and_relay_taxes_alone_get_the_section(self):
        from tests.helpers import load_data

        data = json.loads((FIXTURES / "report-a.json").read_text(encoding="utf-8"))
        data["namespace_tax"] = [
            {"id": "tcp", "pattern": "latency", "message_size": 1048576, "ratio": 1.44,
             "interval": [1.3, 1.6], "verdict": "namespaces slower"}
        ]
        data["relay_tax"] = [
            {"id": "pipe.relay.splice", "pattern": "throughput", "message_size": 65536,
             "ratio": 1.7, "interval": [1.5, 1.9], "verdict": "relay slower"}
        ]
        report = load_data(data)
        self.assertEqual(len(report.namespace_tax), 1)
        self.assertEqual(len(report.relay_tax), 1)
        with tempfile.TemporaryDirectory(prefix="ipcbench-plots-") as tmp:
            page = render([report], None, Path(tmp) / "netns").read_text(encoding="utf-8")
        self.assertIn("Namespace tax", page)
        self.assertIn("1.44x [1.30, 1.60]", page)
        self.assertIn("namespaces slower", page)
        self.assertIn("Relay tax", page)
        self.assertIn("pipe.relay.splice", page)
        self.assertIn("1.70x [1.50, 1.90]", page)

    def test_claims_must_be_an_array_of_objects(self):
        from ipcbench_plots.report import ReportError
        from tests.helpers import load_data

        data = json.loads((FIXTURES / "report-a.json").read_text(encoding="utf-8"))
        data["claims"] = "holds"
        with self.assertRaisesRegex(ReportError, "'claims' is not an array of objects"):
            load_data(data)


class NotificationTest(unittest.TestCase):
    """Notification mechanisms run at size 0: off the size axes, ranked on their own."""

    def test_size_zero_gets_a_ranking_and_table_rows_but_no_axis_point(self):
        import json

        report = json.loads((FIXTURES / "report-a.json").read_text(encoding="utf-8"))
        extra = []
        for b in report["benchmarks"]:
            if b.get("pattern") == "latency" and b.get("message_size") == 64:
                n = dict(b)
                for key in ("name", "run_name"):
                    if key in n:
                        n[key] = n[key].replace(f"{b['id']}/latency/64/", "eventfd/latency/0/")
                n.update(id="eventfd", mechanism="eventfd", variant="default", message_size=0,
                         family="signals & notification")
                extra.append(n)
        self.assertTrue(extra)
        report["benchmarks"] += extra
        with tempfile.TemporaryDirectory(prefix="ipcbench-plots-") as tmp:
            path = Path(tmp) / "notify.json"
            path.write_text(json.dumps(report), encoding="utf-8")
            index = render([load_report(path, "notify")], None, Path(tmp) / "out")
            stems = chart_stems(index)
            self.assertIn("ranking-latency-0B", stems)
            self.assertIn("eventfd", index.read_text(encoding="utf-8"))
            (loaded,) = [load_report(path, "notify")]
            self.assertNotIn(0, loaded.sizes("latency"))
            self.assertIn(0, loaded.all_sizes("latency"))


class GapTest(unittest.TestCase):
    """Skipped and failed cells are NaN in the plotted series, never zero."""

    def plotted(self, series: str, metric: figure.Metric):
        from matplotlib.figure import Figure

        writer = figure.ChartWriter(load("report-a"), Path("/nonexistent"))
        ax = Figure().subplots()
        self.assertEqual(lines.draw_metric_vs_size(writer, ax, [series], metric), [series])
        line = ax.get_lines()[0]  # the data line; the size markers follow it
        return dict(zip(line.get_xdata(), line.get_ydata()))

    def test_failed_cell_is_a_gap(self):
        points = self.plotted("unix_stream", figure.THROUGHPUT)
        self.assertTrue(math.isnan(points[65536]))
        self.assertGreater(points[4096], 0)
        self.assertGreater(points[1048576], 0)

    def test_skipped_sizes_are_gaps(self):
        points = self.plotted("posix_mq", figure.LATENCY)
        self.assertTrue(math.isnan(points[65536]))
        self.assertTrue(math.isnan(points[1048576]))
        self.assertGreater(points[4096], 0)


class OverlayTest(unittest.TestCase):
    """Two reports with different benchmark sets: overlays and heatmaps."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="ipcbench-plots-")
        cls.reports = load("report-a", "report-b")
        cls.compare = load_compare(FIXTURES / "compare-a-b.json")
        cls.with_compare = render(cls.reports, cls.compare, Path(cls.tmp.name) / "ab")
        cls.without = render(cls.reports, None, Path(cls.tmp.name) / "ab-plain")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_verdict_context_names_the_statistics(self):
        data = json.loads((FIXTURES / "compare-a-b.json").read_text(encoding="utf-8"))
        data.update(test="mann-whitney", alpha=0.05, correction="holm", family_size=36,
                    runs={"baseline": 8, "contender": 8})
        path = Path(self.tmp.name) / "ctx.json"
        path.write_text(json.dumps(data), encoding="utf-8")
        page = render(self.reports, load_compare(path), Path(self.tmp.name) / "ctx").read_text(
            encoding="utf-8")
        self.assertIn("runs per side 8 vs 8; test mann-whitney; alpha 0.05 family-wise, "
                      "Holm&#x27;s correction over 36 tested metrics", page)

    def test_overlay_and_heatmaps_are_rendered(self):
        for index in (self.with_compare, self.without):
            stems = set(chart_stems(index))
            self.assertIn("throughput-shared-memory-mmap", stems)
            self.assertIn("latency-message-queues", stems)
            for metric in ("rtt-p50-ns", "rtt-p99-ns", "bytes-per-second"):
                self.assertIn(f"heatmap-{metric}-report-b", stems)
            for stem in stems:
                self.assertTrue((index.parent / f"{stem}.png").is_file(), stem)

    def test_legend_and_subtitle_name_both_reports(self):
        svg = (self.with_compare.parent / "latency-overview.svg").read_text(encoding="utf-8")
        for text in ("report: report-a", "report: report-b", "machine-b", "Linux 6.8.0-31-generic"):
            self.assertIn(text, svg)

    def test_outlines_only_with_compare_json(self):
        html = self.with_compare.read_text(encoding="utf-8")
        self.assertIn("Outlined cells", html)
        self.assertIn("Compare verdicts", html)
        self.assertIn("No compare JSON given", self.without.read_text(encoding="utf-8"))
        # The verdicts say what they stand on: idle mode of each report (unrecorded in these
        # fixtures), runs per side, test, correction and family size when the JSON has them.
        self.assertIn("Verdicts stand on: idle states unrecorded (report-a)", html)
        series, sizes = ["pipe", "unix_stream", "posix_mq"], [1, 64, 4096, 65536, 1048576]
        grid, outlines = heatmap._ratio_grid(
            *self.reports, series, sizes, figure.LATENCY, self.compare
        )
        self.assertEqual(sorted(outlines), [(0, c) for c in range(5)] + [(1, 2), (1, 3), (1, 4)])
        self.assertAlmostEqual(grid[0][0], 0.8)
        self.assertTrue(all(math.isnan(v) for v in grid[2]))  # posix_mq is not in report-b
        _, plain = heatmap._ratio_grid(*self.reports, series, sizes, figure.LATENCY, None)
        self.assertEqual(plain, [])


if __name__ == "__main__":
    unittest.main()
