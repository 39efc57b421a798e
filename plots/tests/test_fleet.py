"""The fleet view (3 machines, one slow, normalised by floors), docs/ and their bad input."""

import copy
import json
import lzma
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

PLOTS_DIR = Path(__file__).resolve().parents[1]
if str(PLOTS_DIR) not in sys.path:
    sys.path.insert(0, str(PLOTS_DIR))

from ipcbench_plots import docs, fleet  # noqa: E402
from ipcbench_plots.report import load_report  # noqa: E402

FIXTURES = PLOTS_DIR / "tests" / "fixtures"
RENDER = PLOTS_DIR / "render.py"


def machine(tmp: Path, host: str, factor: float, floor: float) -> Path:
    """report-a as measured on host: every time factor times longer (every rate factor times
    lower), with a wake-up floor of floor ns and per-entry ratios to it and to a copy floor
    that is factor times lower too."""
    data = json.loads((FIXTURES / "report-a.json").read_text(encoding="utf-8"))
    data = copy.deepcopy(data)
    data["context"]["host_name"] = host
    data["context"]["ipcbench"]["calibration"]["wakeup_rtt_ns"] = {"p50": floor}
    for entry in data["benchmarks"]:
        for key in ("rtt_p50_ns", "rtt_p99_ns", "rtt_mean_ns", "cpu_ns_per_message"):
            if isinstance(entry.get(key), (int, float)):
                entry[key] *= factor
        if isinstance(entry.get("bytes_per_second"), (int, float)):
            entry["bytes_per_second"] /= factor
            entry["bytes_per_second_per_copy_floor"] = entry["bytes_per_second"] / (
                2e9 / factor)
        if isinstance(entry.get("rtt_p50_ns"), (int, float)):
            entry["rtt_p50_per_wake_floor"] = entry["rtt_p50_ns"] / floor
    path = tmp / f"{host}.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def run(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(RENDER), *map(str, args)], capture_output=True,
                          text=True, timeout=300, check=False)


class FleetTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="ipcbench-plots-")
        tmp = Path(cls.tmp.name)
        # Two machines alike, a third three times slower with floors three times slower.
        cls.paths = [machine(tmp, "alpha", 1.0, 6000.0), machine(tmp, "beta", 1.04, 6100.0),
                     machine(tmp, "gamma", 3.0, 18000.0)]
        cls.reports = [load_report(p, p.stem) for p in cls.paths]

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_the_slow_machine_is_flagged(self):
        view = fleet.line_up(self.reports)
        self.assertEqual(fleet.machine_labels(self.reports), ["alpha", "beta", "gamma"])
        self.assertEqual([view.outlier_machine(i) for i in range(3)], [False, False, True])
        row = next(r for r in view.rows if r.name == "pipe/latency/64/cross")
        self.assertEqual(row.outlier, [False, False, True])
        self.assertAlmostEqual(row.slowdown(2), 3.0 / 1.04, places=3)
        throughput = next(r for r in view.rows if r.name == "pipe/throughput/1048576/cross")
        self.assertTrue(throughput.outlier[2])
        self.assertGreater(throughput.slowdown(2), 2.5)  # fewer bytes/s reads as slower
        failed = next(r for r in view.rows if r.name == "unix_stream/throughput/65536/cross")
        self.assertEqual(failed.missing[0], "failed: integrity: 3 messages lost")
        self.assertEqual(failed.outlier, [False, False, False])
        lines = fleet.summary(view)
        self.assertTrue(lines[2].startswith("gamma: OUTLIER MACHINE — an outlier on"), lines[2])
        self.assertTrue(lines[0].startswith("alpha: in line — an outlier on 0 of"), lines[0])

    def test_normalised_by_its_own_floors_the_slow_machine_is_in_line(self):
        view = fleet.line_up(self.reports, "wake")
        self.assertEqual([view.outlier_machine(i) for i in range(3)], [False, False, False])
        row = next(r for r in view.rows if r.name == "pipe/latency/64/cross")
        self.assertEqual(row.metric.key, "rtt_p50_per_wake_floor")
        # The line floor is not in these reports: said, not invented.
        line = next(r for r in fleet.line_up(self.reports, "line").rows
                    if r.name == "pipe/latency/64/cross")
        self.assertEqual(line.missing, ["no rtt_p50_per_line_floor"] * 3)

    def test_two_machines_are_lined_up_but_not_judged(self):
        view = fleet.line_up(self.reports[:2])
        self.assertEqual(view.judged(0), 0)
        self.assertIn("not judged", fleet.summary(view)[0])

    def test_library_threads_unrecorded_counts_as_free(self):
        # A report from before --library-threads ran its libraries' threads free.
        def with_mode(mode):
            tmp = Path(self.tmp.name)
            data = json.loads(self.paths[0].read_text(encoding="utf-8"))
            data["context"]["ipcbench"].pop("library_threads", None)
            if mode is not None:
                data["context"]["ipcbench"]["library_threads"] = mode
            path = tmp / f"mode-{mode}.json"
            path.write_text(json.dumps(data), encoding="utf-8")
            return load_report(path, path.stem)

        old, free, pinned = with_mode(None), with_mode("free"), with_mode("pinned")
        self.assertFalse([w for w in fleet.conditions(fleet.line_up([old, free]))
                          if "library threads" in w])
        warned = [w for w in fleet.conditions(fleet.line_up([old, pinned]))
                  if "library threads" in w]
        self.assertEqual(len(warned), 1)
        self.assertIn("(free, pinned)", warned[0])

    def test_the_page(self):
        out = Path(self.tmp.name) / "page"
        result = run("--fleet", *self.paths, "--out", out)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout.strip(), str(out / "index.html"))
        html = (out / "index.html").read_text(encoding="utf-8")
        self.assertIn("gamma: OUTLIER MACHINE", html)
        self.assertIn("robust z score", html)
        self.assertIn('class="num outlier"', html)
        self.assertNotIn("<script", html)
        self.assertTrue((out / "fleet-spread.png").read_bytes().startswith(b"\x89PNG"))
        self.assertTrue((out / "fleet-spread.svg").is_file())

    def test_bad_input_is_one_line_and_exit_2(self):
        out = Path(self.tmp.name) / "bad"
        for args, fragment in (
            (["--fleet", self.paths[0]], "--fleet needs reports from 2 or more machines"),
            (["--fleet", self.paths[0], FIXTURES / "missing.json"], "No such file"),
            (["--fleet", self.paths[0], self.paths[1], FIXTURES / "malformed.json"],
             "malformed JSON"),
            (["--fleet", self.paths[0], FIXTURES / "not-a-report.json"],
             "not an ipcbench report"),
            (["--normalise", "wake", self.paths[0]], "--normalise needs --fleet"),
            (["--fleet", "--normalise", "cpu", *self.paths], "invalid choice"),
            (["--docs", *self.paths[:2]], "--docs takes one report"),
            (["--fleet", "--docs", *self.paths], "not allowed with"),
        ):
            result = run(*args, "--out", out)
            self.assertEqual(result.returncode, 2, (args, result.stderr))
            self.assertEqual(len(result.stderr.splitlines()), 1, result.stderr)
            self.assertIn(fragment, result.stderr)
            self.assertFalse(out.exists())


class DocsTest(unittest.TestCase):
    def test_docs_folder_and_readme_block(self):
        with tempfile.TemporaryDirectory(prefix="ipcbench-plots-") as tmp:
            out = Path(tmp) / "docs"
            report = load_report(FIXTURES / "report-b.json", "report-b")
            page = docs.write_docs(report, out)
            self.assertEqual(page, out / "README.md")
            pngs = sorted(p.name for p in out.glob("*.png"))
            self.assertEqual(pngs, ["latency-shared-memory-mmap.png", "ranking-latency-64B.png",
                                    "throughput-overview.png"])
            # The copy: each repetition cut to what report.py reads, named after its source.
            with lzma.open(out / "report.json.xz") as copy:
                data = json.load(copy)
            self.assertEqual(data[docs.COPY_OF], "report-b.json")
            original = json.loads((FIXTURES / "report-b.json").read_text(encoding="utf-8"))
            # Every repetition stays; the aggregates of a benchmark with repetitions go (the
            # fixture has both kinds of benchmark).
            repeated = {e["name"] for e in original["benchmarks"] if e["run_type"] == "iteration"}
            expected = [e for e in original["benchmarks"]
                        if e["run_type"] == "iteration" or e["run_name"] not in repeated]
            self.assertLess(len(expected), len(original["benchmarks"]))
            self.assertEqual(len(data["benchmarks"]), len(expected))
            self.assertTrue(any(set(e) - docs.KEPT_FIELDS for e in original["benchmarks"]))
            for entry in data["benchmarks"]:
                self.assertLessEqual(set(entry), docs.KEPT_FIELDS)
            self.assertEqual(data.get("estimates"), original.get("estimates"))
            self.assertEqual(data["context"], original["context"])
            # It reads back as the same report: what the pages show comes out the same.
            copied = load_report(out / "report.json.xz", "copy")
            self.assertEqual(copied.path.name, "report.json.xz")
            self.assertEqual(copied.cells, report.cells)
            self.assertEqual(copied.estimates, report.estimates)
            self.assertEqual(copied.regimes, report.regimes)
            # Regenerated from the copy, the pages and the copy are the same, byte for byte.
            again = Path(tmp) / "again"
            docs.write_docs(copied, again)
            for name in ("headline.md", "README.md", "report.json.xz", "throughput-overview.png"):
                self.assertEqual((again / name).read_bytes(), (out / name).read_bytes(), name)
            headline = (out / "headline.md").read_text(encoding="utf-8")
            self.assertIn("- **Spinning.** At 64 B, shm.spin's p50 round trip is 414 ns", headline)
            machine = page.read_text(encoding="utf-8")
            self.assertIn("| kernel | Linux 6.8.0-31-generic #31-Ubuntu SMP PREEMPT_DYNAMIC |",
                          machine)
            self.assertIn(docs.COMMAND, machine)
            self.assertIn("a copy of `report-b.json`", machine)
            # The top-level README quotes three findings and names the rest, with the link.
            quoted = docs._readme_findings(report, "docs/run/headline.md")
            self.assertTrue(quoted.startswith("- **Run.** "), quoted)
            self.assertIn("\n- **Wake-up.** ", quoted)
            self.assertNotIn("- **Spinning.**", quoted)
            self.assertIn("- **More,** in [docs/run/headline.md](docs/run/headline.md): ", quoted)
            self.assertIn("; spinning", quoted)
            self.assertIn("- **Spinning.**", headline)  # headline.md keeps them all
            readme = Path(tmp) / "README.md"
            readme.write_text(f"# x\n\n    two commands\n\n{docs.DOCS_BEGIN}\nold\n{docs.DOCS_END}"
                              "\n\nrest\n", encoding="utf-8")
            docs._update_readme(readme, [("throughput-overview", "Throughput")],
                                "- **Run.** text\n", docs.REPO / "docs" / "run")
            text = readme.read_text(encoding="utf-8")
            self.assertIn("![Throughput](docs/run/throughput-overview.png)", text)
            self.assertIn("- **Run.** text", text)
            self.assertNotIn("old", text)
            self.assertTrue(text.startswith("# x\n\n    two commands\n"))
            self.assertTrue(text.endswith(f"{docs.DOCS_END}\n\nrest\n"))


    def test_the_docs_copy_keeps_a_topology_benchmarks_counters(self):
        name = "pipe/fan_in/2/throughput/64/cross"
        entry = {"name": name, "run_name": name,
                 "topology": "fan_in", "fan": 2, "status": "ok", "bytes_per_second": 1e9,
                 "torn_records": 0, "real_time": 12.5, "cpu": {"producer_ns": 5},
                 "group": {"oversubscribed": False, "members": [1, 2]}, "time_unit": "ns"}
        slim = docs.slim_report({"context": {}, "benchmarks": [entry]})["benchmarks"][0]
        self.assertEqual(slim, {"name": entry["name"], "run_name": entry["run_name"],
                                "topology": "fan_in", "fan": 2, "status": "ok",
                                "bytes_per_second": 1e9, "torn_records": 0, "real_time": 12.5,
                                "group": {"oversubscribed": False}})
        # Cutting a cut copy changes nothing.
        self.assertEqual(docs.slim_report({"benchmarks": [slim]})["benchmarks"], [slim])

    def test_the_docs_copy_keeps_aggregates_only_where_they_are_all_there_is(self):
        def row(name, run_type, **fields):
            return {"name": name, "run_name": name, "run_type": run_type, **fields}
        repeated = "pipe/latency/64/cross"
        aggregated = "fifo/latency/64/cross"
        topo = "pipe/pairs/2/latency/64/cross"
        data = {"benchmarks": [
            row(repeated, "iteration", rtt_p50_ns=5000.0),
            row(repeated, "aggregate", aggregate_name="median", rtt_p50_ns=5000.0),
            row(aggregated, "aggregate", aggregate_name="median", rtt_p50_ns=6000.0),
            row(topo, "iteration", rtt_p50_ns=7000.0),
            row(topo, "aggregate", aggregate_name="median", rtt_p50_ns=7000.0),
        ]}
        kept = [(e["name"], e["run_type"]) for e in docs.slim_report(data)["benchmarks"]]
        self.assertEqual(kept, [(repeated, "iteration"), (aggregated, "aggregate"),
                                (topo, "iteration")])


if __name__ == "__main__":
    unittest.main()
