"""The layer cost: ratios of each middleware to its raw mechanism, missing sides, page and files."""

import math
import re
import sys
import tempfile
import unittest
from pathlib import Path

PLOTS_DIR = Path(__file__).resolve().parents[1]
if str(PLOTS_DIR) not in sys.path:
    sys.path.insert(0, str(PLOTS_DIR))

from ipcbench_plots.layer import LAYER_BASES, layer_table, missing_summary  # noqa: E402
from ipcbench_plots.report import load_report  # noqa: E402

FIXTURES = PLOTS_DIR / "tests" / "fixtures"


def load(name: str):
    return load_report(FIXTURES / f"{name}.json", name)


def cell(table, series: str, metric: str, pattern: str, size: int):
    pair = next(p for p in table.pairs if p.series == series)
    return next(
        c
        for c in pair.cells
        if c.metric.name == metric and c.metric.pattern == pattern and c.size == size
    )


class RatioTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.report = load("report-mw")
        cls.table = layer_table(cls.report)

    def test_mapping_names_every_middleware_with_a_reason(self):
        for bench_id in (
            "zeromq.ipc", "zeromq.tcp", "nng.ipc", "grpc.uds", "grpc.uds.stream", "dbus.bus",
            "dbus.p2p", "iceoryx.copy", "iceoryx.zerocopy", "boost.message_queue",
        ):
            base, why = LAYER_BASES[bench_id]
            self.assertIn(base, ("unix_stream", "tcp", "posix_shm.futex"))
            self.assertTrue(why)

    def test_latency_ratio_is_middleware_over_base(self):
        # The median repetition is the fixture's cost model: base + 2 * size / bytes per ns.
        c = cell(self.table, "zeromq.ipc", "p50 RTT", "latency", 64)
        self.assertEqual(c.base.id, "unix_stream")
        self.assertAlmostEqual(c.middleware.value, 30000 + 128 / 2.0, places=1)
        self.assertAlmostEqual(c.base.value, 12000 + 128 / 3.0, places=1)
        self.assertAlmostEqual(c.ratio, (30000 + 64) / (12000 + 128 / 3.0), places=4)
        self.assertGreater(c.ratio, 1)

    def test_throughput_ratio_is_base_over_middleware(self):
        c = cell(self.table, "zeromq.tcp", "throughput", "throughput", 4096)
        self.assertEqual(c.base.id, "tcp")
        mw = self.report.value("zeromq.tcp", "throughput", 4096, "bytes_per_second")
        base = self.report.value("tcp", "throughput", 4096, "bytes_per_second")
        self.assertLess(mw, base)  # the middleware is slower ...
        self.assertAlmostEqual(c.ratio, base / mw)  # ... so its cost is above 1
        self.assertGreater(c.ratio, 1)

    def test_cpu_ratios_of_both_patterns(self):
        for metric, pattern in (("CPU per round trip", "latency"),
                                ("CPU per message", "throughput")):
            c = cell(self.table, "zeromq.ipc", metric, pattern, 4096)
            mw = self.report.value("zeromq.ipc", pattern, 4096, "cpu_ns_per_message")
            base = self.report.value("unix_stream", pattern, 4096, "cpu_ns_per_message")
            self.assertAlmostEqual(c.ratio, mw / base)

    def test_failed_base_is_missing_with_its_reason(self):
        c = cell(self.table, "zeromq.tcp", "throughput", "throughput", 65536)
        self.assertTrue(math.isnan(c.ratio))
        self.assertEqual(c.missing, "tcp failed: peer exited with status 1")
        self.assertTrue(math.isfinite(c.middleware.value))  # the side that ran keeps its value

    def test_skipped_middleware_is_missing_with_its_reason(self):
        c = cell(self.table, "iceoryx.copy", "p50 RTT", "latency", 64)
        self.assertTrue(math.isnan(c.ratio))
        self.assertEqual(c.middleware.short, "skipped")
        self.assertIn("iceoryx not found at configure time", c.missing)

    def test_latency_only_and_unavailable_ids_are_listed(self):
        grpc = next(p for p in self.table.pairs if p.series == "grpc.uds")
        self.assertEqual({c.metric.pattern for c in grpc.cells}, {"latency"})
        self.assertIn("latency only", " ".join(grpc.notes))
        dbus = next(p for p in self.table.pairs if p.series == "dbus.p2p")
        self.assertEqual(dbus.cells, [])
        self.assertEqual(
            missing_summary(dbus),
            ["dbus.p2p: unavailable: sd-bus not found at configure time (libsystemd-dev)"],
        )

    def test_base_not_run_and_base_skipped(self):
        table = layer_table(load("report-mw-nobase"))
        c = cell(table, "zeromq.ipc", "p50 RTT", "latency", 64)
        self.assertTrue(math.isnan(c.ratio))
        self.assertEqual(c.missing, "unix_stream not run in this report")
        self.assertTrue(math.isfinite(c.middleware.value))
        skipped = cell(table, "iceoryx.copy", "throughput", "throughput", 1048576)
        self.assertEqual(skipped.base.short, "skipped")
        self.assertTrue(math.isfinite(cell(table, "iceoryx.copy", "p50 RTT", "latency", 64).ratio))

    def test_no_middleware_no_table(self):
        self.assertFalse(layer_table(load("report-a")))


class LayerPageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        from ipcbench_plots.cli import render

        cls.tmp = tempfile.TemporaryDirectory(prefix="ipcbench-plots-")
        cls.out = Path(cls.tmp.name) / "mw"
        cls.html = render([load("report-mw")], None, cls.out).read_text(encoding="utf-8")
        cls.nobase = render([load("report-mw-nobase")], None, Path(cls.tmp.name) / "nb")
        cls.plain = render([load("report-a")], None, Path(cls.tmp.name) / "a")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_layer_charts_and_family_charts_are_written(self):
        for stem in ("layer-cost-latency", "layer-cost-throughput", "latency-middleware",
                     "throughput-middleware", "cpu-middleware"):
            self.assertIn(f'<img src="{stem}.svg"', self.html)
            for ext in ("svg", "png"):
                self.assertGreater((self.out / f"{stem}.{ext}").stat().st_size, 1000, stem)

    def test_page_has_the_layer_table_as_text(self):
        self.assertIn('<table class="layer">', self.html)
        section = self.html[self.html.index('id="layer-cost'):self.html.index('id="numbers"')]
        text = re.sub(r"<[^>]+>", " ", section)
        for words in ("zeromq.ipc", "unix_stream", "2.5×", "base failed", "middleware skipped",
                      "tcp failed: peer exited with status 1",
                      "dbus.p2p: unavailable: sd-bus not found",
                      "latency only", "posix_shm.futex"):
            self.assertIn(words, text)
        self.assertNotIn("{", text)  # readable text, no JSON

    def test_unavailable_and_skipped_middleware_are_named(self):
        # The mechanisms table says which ids cannot run here, and why.
        self.assertIn("no: sd-bus not found at configure time", self.html)
        self.assertIn("no: iceoryx not found at configure time", self.html)
        # The middleware family charts name the skipped id in their legend, the reason in
        # lines of a series' name's width (lines.NOT_DRAWN_WIDTH).
        svg = (self.out / "latency-middleware.svg").read_text(encoding="utf-8")
        self.assertIn("<!-- iceoryx.copy: not drawn, skipped: -->", svg)
        self.assertIn("<!-- iceoryx not found at configure time -->", svg)

    def test_missing_base_page(self):
        html = self.nobase.read_text(encoding="utf-8")
        self.assertIn("unix_stream not run in this report", html)
        self.assertIn("posix_shm.futex skipped: message size 1048576 exceeds the ring", html)

    def test_pages_stay_offline(self):
        for html in (self.html, self.nobase.read_text(encoding="utf-8")):
            self.assertNotIn("<script", html)
            self.assertIsNone(re.search(r'(src|href)="(https?:)?//', html))

    def test_no_middleware_no_layer_section(self):
        html = self.plain.read_text(encoding="utf-8")
        self.assertNotIn("Layer cost", html)
        self.assertFalse((self.plain.parent / "layer-cost-latency.svg").exists())


if __name__ == "__main__":
    unittest.main()
