"""Topology benchmarks (pairs, fan-in, fan-out): kept apart from the one-pair cells, and charted
against N and across PIPE_BUF."""

import copy
import json
import sys
import tempfile
import unittest
from pathlib import Path

PLOTS_DIR = Path(__file__).resolve().parents[1]
if str(PLOTS_DIR) not in sys.path:
    sys.path.insert(0, str(PLOTS_DIR))

from ipcbench_plots.cli import render  # noqa: E402
from ipcbench_plots.report import load_report  # noqa: E402

FIXTURES = PLOTS_DIR / "tests" / "fixtures"


def topology_entry(mech, topo, n, pattern, size, counters, status="ok", over=False):
    name = f"{mech}/{topo}/{n}/{pattern}/{size}/cross"
    entry = {
        "name": name, "run_name": name, "run_type": "iteration", "id": mech, "mechanism": mech,
        "variant": "default", "family": "pipes & FIFOs", "pattern": pattern,
        "message_size": size, "placement": "cross", "process": "fork", "topology": topo,
        "fan": n, "status": status, "reason": "",
        "group": {"topology": topo, "n": n, "oversubscribed": over, "members": []},
    }
    entry.update(counters)
    return entry


class TopologyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="ipcbench-plots-topo-")
        doc = json.loads((FIXTURES / "report-a.json").read_text(encoding="utf-8"))
        cls.plain = copy.deepcopy(doc)
        extra = []
        for n in (1, 2, 4):
            for size, torn in ((4095, 0), (4096, 0), (4097, 3 * n)):
                extra.append(topology_entry("pipe", "fan_in", n, "throughput", size,
                                            {"bytes_per_second": 1e9 / n, "torn_records": torn},
                                            over=n > 1))
            extra.append(topology_entry("pipe", "pairs", n, "throughput", 64,
                                        {"bytes_per_second": 2e8 * n}))
            extra.append(topology_entry("pipe", "pairs", n, "latency", 64, {"rtt_p50_ns": 5e3 * n}))
            extra.append(topology_entry("posix_mq", "fan_out", n, "throughput", 4096,
                                        {"bytes_per_second": 3e8 * n, "delay_p50_ns": 2e4 * n}))
        doc["benchmarks"] += extra
        cls.path = Path(cls.tmp.name) / "topo.json"
        cls.path.write_text(json.dumps(doc), encoding="utf-8")
        plain_path = Path(cls.tmp.name) / "plain.json"
        plain_path.write_text(json.dumps(cls.plain), encoding="utf-8")
        cls.report = load_report(cls.path, "topo")
        cls.plain_report = load_report(plain_path, "plain")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_topology_entries_stay_out_of_the_one_pair_cells(self):
        self.assertEqual(self.report.cells.keys(), self.plain_report.cells.keys())
        for key, cell in self.plain_report.cells.items():
            self.assertEqual(self.report.cells[key].values, cell.values)
        self.assertEqual(len(self.report.topology), 18)

    def test_charts_against_n_and_across_pipe_buf(self):
        out = Path(self.tmp.name) / "out"
        index = render([self.report], None, out)
        html = index.read_text(encoding="utf-8")
        self.assertIn("Many processes on one channel", html)
        for stem in ("topology-fan-in-torn", "topology-pairs-throughput-bytes-per-second-64b",
                     "topology-pairs-latency-rtt-p50-ns-64b",
                     "topology-fan-in-throughput-bytes-per-second-4097b",
                     "topology-fan-out-throughput-bytes-per-second-4kib",
                     "topology-fan-out-throughput-delay-p50-ns-4kib"):
            self.assertTrue((out / f"{stem}.svg").exists(), stem)
        # No delay in the fan-in entries: no delay chart for them.
        self.assertFalse((out / "topology-fan-in-throughput-delay-p50-ns-4097b.svg").exists())

    def test_repetitions_merge_to_their_median_and_a_failed_one_makes_a_gap(self):
        doc = copy.deepcopy(self.plain)
        for bps in (1e9, 9e9, 2e9):
            doc["benchmarks"].append(topology_entry("pipe", "pairs", 2, "throughput", 64,
                                                    {"bytes_per_second": bps}))
        for status in ("ok", "failed", "ok"):
            doc["benchmarks"].append(topology_entry("fifo", "fan_in", 2, "throughput", 64,
                                                    {"bytes_per_second": 5e8}, status=status))
        path = Path(self.tmp.name) / "reps.json"
        path.write_text(json.dumps(doc), encoding="utf-8")
        points = {(p.id, p.topology): p for p in load_report(path, "reps").topology}
        self.assertEqual(len(points), 2)
        self.assertEqual(points[("pipe", "pairs")].counters["bytes_per_second"], 2e9)
        self.assertEqual(points[("pipe", "pairs")].status, "ok")
        self.assertEqual(points[("fifo", "fan_in")].status, "failed")

    def test_a_report_without_topologies_draws_none(self):
        out = Path(self.tmp.name) / "plain-out"
        render([self.plain_report], None, out)
        self.assertFalse(list(out.glob("topology-*")))


if __name__ == "__main__":
    unittest.main()
