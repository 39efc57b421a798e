"""Reading reports and compare JSON, and the number formats (no matplotlib)."""

import copy
import dataclasses
import json
import math
import statistics
import sys
import tempfile
import unittest
from pathlib import Path

PLOTS_DIR = Path(__file__).resolve().parents[1]
if str(PLOTS_DIR) not in sys.path:
    sys.path.insert(0, str(PLOTS_DIR))

from ipcbench_plots.cli import default_out_dir  # noqa: E402
from ipcbench_plots.compare import load_compare  # noqa: E402
from ipcbench_plots.report import ReportError, load_report, read_json  # noqa: E402
from ipcbench_plots.units import format_ns, format_rate, format_size, size_ticks  # noqa: E402
from tests.helpers import load_data, without_estimates  # noqa: E402

FIXTURES = PLOTS_DIR / "tests" / "fixtures"


class ReportTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.a = load_report(FIXTURES / "report-a.json", "report-a")
        cls.b = load_report(FIXTURES / "report-b.json", "report-b")

    def test_cell_is_the_median_of_the_iterations(self):
        raw = read_json(FIXTURES / "report-a.json")["benchmarks"]
        reps = [
            e["rtt_p50_ns"]
            for e in raw
            if e["name"] == "pipe/latency/64/cross" and e["run_type"] == "iteration"
        ]
        self.assertEqual(len(reps), 3)
        self.assertEqual(self.a.value("pipe", "latency", 64, "rtt_p50_ns"), statistics.median(reps))
        self.assertEqual(self.a.cell("pipe", "latency", 64).repetitions, 3)

    def test_percentiles_are_parsed_as_numbers(self):
        cell = self.a.cell("pipe", "latency", 4096)
        self.assertIn(99.9, cell.percentiles)
        self.assertIn(100.0, cell.percentiles)
        self.assertLess(cell.percentiles[0.0], cell.percentiles[100.0])

    def test_aggregates_are_the_fallback(self):
        raw = read_json(FIXTURES / "report-b.json")["benchmarks"]
        median = next(e for e in raw if e["name"] == "shm.futex/latency/64/cross_median")
        cell = self.b.cell("shm.futex", "latency", 64)
        self.assertEqual(cell.repetitions, 1)
        self.assertEqual(cell.values["rtt_p50_ns"], median["rtt_p50_ns"])

    def test_skipped_and_failed_cells_have_no_values(self):
        skipped = self.a.cell("posix_mq", "latency", 65536)
        self.assertEqual(skipped.status, "skipped")
        self.assertIn("exceeds", skipped.reason)
        failed = self.a.cell("unix_stream", "throughput", 65536)
        self.assertEqual(failed.status, "failed")
        self.assertIn("integrity", failed.reason)
        self.assertTrue(
            math.isnan(self.a.value("unix_stream", "throughput", 65536, "bytes_per_second"))
        )
        self.assertTrue(math.isnan(self.a.value("no_such_id", "latency", 64, "rtt_p50_ns")))

    def test_families_in_context_order_calibration_last(self):
        self.assertEqual(
            self.a.families, ["pipes & FIFOs", "sockets", "message queues", "calibration"]
        )
        self.assertEqual(self.a.series(), ["pipe", "unix_stream", "posix_mq", "null"])

    def test_machine_line_names_cpu_kernel_and_date(self):
        line = self.a.machine_line()
        for part in ("Xeon", "Linux 6.1.0-18-amd64", "2024-05-02"):
            self.assertIn(part, line)

    def test_limits_come_from_the_context(self):
        self.assertEqual(self.a.limit("pipe_buf"), 4096)
        self.assertEqual(self.a.limit("unix_dgram_max_dgram_qlen", 7), 7)


class EstimatesTest(unittest.TestCase):
    """report-estimates.json: six repetitions per benchmark, four in regime 0 (the reference)."""

    @classmethod
    def setUpClass(cls):
        cls.data = read_json(FIXTURES / "report-estimates.json")
        cls.report = load_report(FIXTURES / "report-estimates.json", "estimates")

    def repetitions(self, name: str, regime=None) -> list[dict]:
        return [e for e in self.data["benchmarks"] if e["name"] == name
                and (regime is None or e["regime"] == regime)]

    def test_a_value_without_an_interval_says_how_few_repetitions_it_rests_on(self):
        cell = self.report.cell("posix_shm.spin", "latency", 64)
        bare = dataclasses.replace(cell.estimate, interval=None, used=2)
        self.assertEqual(bare.note(format_ns), " [no interval: 2 repetitions]")
        one = dataclasses.replace(cell.estimate, interval=None, used=1)
        self.assertEqual(one.note(format_ns), " [no interval: 1 repetition]")
        self.assertTrue(cell.estimate.note(format_ns).startswith(" [CI "))

    def test_cell_is_the_median_of_the_basis_repetitions_only(self):
        basis = self.repetitions("posix_shm.spin/latency/64/cross", regime=0)
        every = self.repetitions("posix_shm.spin/latency/64/cross")
        self.assertEqual((len(basis), len(every)), (4, 6))
        cell = self.report.cell("posix_shm.spin", "latency", 64)
        for key in ("rtt_p50_ns", "rtt_p99_ns", "cpu_ns_per_message"):
            self.assertEqual(cell.values[key], statistics.median(e[key] for e in basis))
        self.assertEqual(cell.percentiles[99.0], statistics.median(
            e["latency_percentiles_ns"]["99"] for e in basis))
        self.assertNotEqual(cell.values["rtt_p50_ns"],
                            statistics.median(e["rtt_p50_ns"] for e in every))
        self.assertEqual(cell.values["rtt_p50_ns"], cell.estimate.value)
        self.assertEqual(cell.repetitions, 6)

    def test_latency_taken_to_the_floor_shows_the_estimates_value(self):
        data = copy.deepcopy(self.data)
        estimate = data["estimates"]["posix_shm.spin/latency/64/cross"]
        raw = estimate["value"]
        estimate["value"] = raw * 0.9
        estimate["interval"] = [raw * 0.85, raw * 0.95]
        estimate["adjusted"] = {"floor": "cache_line_rtt_p50_ns", "slope": 0.7, "to_ns": 480.0,
                                "raw_value": raw}
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "adjusted.json"
            path.write_text(json.dumps(data))
            report = load_report(path, "adjusted")
        cell = report.cell("posix_shm.spin", "latency", 64)
        # The bar and its interval are the estimate's, the repetitions' own median beside it.
        self.assertEqual(cell.values["rtt_p50_ns"], raw * 0.9)
        self.assertEqual(cell.estimate.raw_value, raw)
        self.assertIn("latency taken to the run's median floor", report.basis())
        self.assertNotIn("median floor", self.report.basis())
        self.assertIsNone(self.report.cell("posix_shm.spin", "latency", 64).estimate.raw_value)

    def test_throughput_taken_to_the_pace_shows_the_estimates_value(self):
        data = copy.deepcopy(self.data)
        key = next(k for k, e in data["estimates"].items()
                   if e.get("metric") == "bytes_per_second" and e.get("value"))
        estimate = data["estimates"][key]
        raw = estimate["value"]
        estimate["value"] = raw * 1.1
        estimate["at_run_pace"] = {"raw_value": raw}
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "paced.json"
            path.write_text(json.dumps(data))
            report = load_report(path, "paced")
        mechanism, pattern, size = key.split("/")[:3]
        cell = report.cell(mechanism, pattern, int(size))
        self.assertEqual(cell.values["bytes_per_second"], raw * 1.1)
        self.assertEqual(cell.estimate.raw_value, raw)
        self.assertTrue(cell.estimate.at_run_pace)
        self.assertIn("throughput taken to the run's pace", report.basis())
        self.assertNotIn("median floor", report.basis())
        self.assertNotIn("run's pace", self.report.basis())

    def test_basis_all_takes_every_repetition(self):
        cell = self.report.cell("pipe", "latency", 4096)
        self.assertEqual(cell.estimate.basis, "all")
        self.assertIsNone(cell.estimate.regime)
        self.assertEqual(cell.values["rtt_p50_ns"], statistics.median(
            e["rtt_p50_ns"] for e in self.repetitions("pipe/latency/4096/cross")))

    def test_cell_carries_its_estimate(self):
        estimate = self.report.cell("posix_shm.spin", "latency", 64).estimate
        self.assertEqual((estimate.basis, estimate.regime, estimate.stopped), ("regime", 0,
                                                                               "converged"))
        self.assertEqual((estimate.used, estimate.repetitions), (4, 6))
        self.assertEqual(estimate.interval, (405.9, 422.5))
        self.assertFalse(estimate.multimodal)
        self.assertIsNone(self.report.estimate("posix_shm.spin", "latency", 64, "rtt_p99_ns"))
        self.assertIsNone(self.report.estimate("pipe", "latency", 1048576, "rtt_p50_ns"))

    def test_an_estimate_reads_the_repetition_that_spreads_it_alone(self):
        from ipcbench_plots.report import _estimate

        raw = copy.deepcopy(self.data["estimates"]["posix_shm.spin/latency/64/cross"])
        self.assertIsNone(_estimate(raw).outlier_ratio)
        raw["spread_outlier"] = {"order": 7, "value": 900.0, "ratio": 2.2, "rest": 4,
                                 "rest_spread": 1.1}
        self.assertEqual((_estimate(raw).outlier_ratio, _estimate(raw).outlier_rest_spread),
                         (2.2, 1.1))

    def test_multimodal_estimate_has_its_modes(self):
        estimate = self.report.cell("posix_shm.spin", "throughput", 1048576).estimate
        self.assertTrue(estimate.multimodal)
        self.assertEqual([m.share for m in estimate.modes], [0.5, 0.5])
        self.assertEqual(estimate.modes_text(format_rate), "2 modes: 8.91 GB/s (50 %) and "
                         "10.5 GB/s (50 %) — producer CPU per message 1.2x higher in the slow mode")

    def test_regimes_are_exposed(self):
        regimes = self.report.regimes
        self.assertEqual(regimes.reference, 0)
        self.assertEqual([r.index for r in regimes.regimes], [0, 1])
        self.assertEqual(regimes.regimes[0].cache_line.median, 125.0)
        self.assertEqual(regimes.regimes[0].describe(),
                         "regime 0 (cache line ~125 ns, 65 % of the run)")
        self.assertEqual(regimes.cache_line.high, 555.9)
        self.assertTrue(self.report.basis().startswith("values in regime 0 (cache line ~125 ns"))

    def test_a_wake_up_state_is_named_where_it_alone_tells_regimes_apart(self):
        data = copy.deepcopy(self.data)
        listed = data["context"]["ipcbench"]["regimes"]["regimes"]
        second = copy.deepcopy(listed[0])
        second["index"] = len(listed)
        second["wakeup_rtt_p50_ns"] = {"median": 22700.0, "min": 19200.0, "max": 37000.0}
        for r in listed:
            r["cache_line_state"] = r["index"]
        second["cache_line_state"] = 0
        listed.append(second)
        regimes = load_data(data).regimes
        self.assertEqual(regimes.regimes[-1].describe(),
                         "regime 2 (cache line ~125 ns, wake-up ~22.7 µs, 65 % of the run)")
        # Regime 1 has a cache-line state of its own: described as before.
        self.assertNotIn("wake-up", regimes.regimes[1].describe())

    def test_older_report_is_read_as_before(self):
        report = load_data(without_estimates(self.data))
        cell = report.cell("posix_shm.spin", "latency", 64)
        self.assertIsNone(cell.estimate)
        self.assertIsNone(report.regimes)
        self.assertEqual(report.estimates, {})
        self.assertEqual(cell.values["rtt_p50_ns"], statistics.median(
            e["rtt_p50_ns"] for e in self.repetitions("posix_shm.spin/latency/64/cross")))
        self.assertEqual(report.basis(), "median of 6 repetitions")

    def test_estimates_that_are_not_objects_are_bad_input(self):
        data = copy.deepcopy(self.data)
        data["estimates"] = ["pipe/latency/64/cross"]
        with self.assertRaisesRegex(ReportError, "'estimates' is not an object"):
            load_data(data)


class BadInputTest(unittest.TestCase):
    def assert_one_line_error(self, path: Path, fragment: str):
        with self.assertRaises(ReportError) as caught:
            load_report(path, "x")
        message = str(caught.exception)
        self.assertNotIn("\n", message)
        self.assertIn(f"'{path}'", message)
        self.assertIn(fragment, message)

    def test_missing_file(self):
        self.assert_one_line_error(FIXTURES / "no-such-report.json", "No such file")

    def test_malformed_json(self):
        self.assert_one_line_error(FIXTURES / "malformed.json", "malformed JSON")

    def test_json_that_is_not_a_report(self):
        self.assert_one_line_error(FIXTURES / "not-a-report.json", "not an ipcbench report")

    def test_report_is_not_a_compare_json(self):
        with self.assertRaisesRegex(ReportError, "not a compare JSON"):
            load_compare(FIXTURES / "report-a.json")


class CompareTest(unittest.TestCase):
    def test_lookup_by_name(self):
        compare = load_compare(FIXTURES / "compare-a-b.json")
        cell = load_report(FIXTURES / "report-a.json", "a").cell("unix_stream", "latency", 4096)
        verdict = compare.lookup(cell, "rtt_p50_ns")
        self.assertEqual(verdict.verdict, "regression")
        self.assertTrue(verdict.significant)
        self.assertEqual(verdict.ratio, 1.25)
        self.assertIsNone(compare.lookup(cell, "rtt_p99_ns"))
        self.assertEqual(compare.notable()[0]["verdict"], "regression")


class UnitsTest(unittest.TestCase):
    def test_sizes(self):
        self.assertEqual(
            [format_size(s) for s in (1, 64, 4095, 4096, 65537, 65536, 1 << 20)],
            ["1 B", "64 B", "4095 B", "4 KiB", "65537 B", "64 KiB", "1 MiB"],
        )

    def test_times_and_rates(self):
        self.assertEqual(format_ns(850), "850 ns")
        self.assertEqual(format_ns(12345), "12.3 µs")
        self.assertEqual(format_ns(2.5e6), "2.5 ms")
        self.assertEqual(format_rate(3.2e9), "3.2 GB/s")
        self.assertEqual(format_ns(math.nan), "—")

    def test_size_ticks_are_powers_of_four(self):
        self.assertEqual(size_ticks(64, 4096), [64, 256, 1024, 4096])

    def test_default_output_folders(self):
        self.assertEqual(default_out_dir(["r1"]), PLOTS_DIR / "out" / "r1")
        self.assertEqual(default_out_dir(["r1", "r2"]), PLOTS_DIR / "out" / "compare-r1-vs-r2")


if __name__ == "__main__":
    unittest.main()
