"""ipcbench-history add: what a run stores, the same report twice, and bad input."""

import gzip
import sqlite3
import unittest

from .helpers import Folder, day, report, run, run_program, write

LAT = "pipe/latency/64/cross"
TP = "pipe/throughput/1048576/cross"


class Add(unittest.TestCase):
    def test_stores_the_run_with_its_machine_commit_conditions_and_floors(self):
        with Folder() as tmp:
            path = write(tmp, "a.json", report(day(0), {LAT: 6000.0, TP: 3e9}, line=120.0,
                                                wake=4800.0, copy=45e9, commit="abc123"))
            status, out, err = run("--db", tmp / "h.sqlite", "add", path)
            self.assertEqual((status, err), (0, ""))
            self.assertIn("added as run 1 (2 results)", out)
            db = sqlite3.connect(tmp / "h.sqlite")
            machine, commit, mode, conditions = db.execute(
                "SELECT machine, git_commit, mode, conditions FROM runs").fetchone()
            self.assertEqual(machine, "box (Test CPU, 2 CPUs)")
            self.assertEqual(commit, "abc123")
            self.assertEqual(mode, "idle held, fork, processes")
            self.assertIn('"placement": "cross"', conditions)
            rows = dict((r[0], r[1:]) for r in db.execute(
                "SELECT benchmark, value, line_floor_ns, wake_floor_ns, copy_floor_bps, "
                "regime_line_ns, lo, hi FROM results"))
            self.assertEqual(rows[LAT][:5], (6000.0, 120.0, 4800.0, None, 120.0))
            self.assertEqual(rows[TP][:5], (3e9, 120.0, None, 45e9, 120.0))
            db.close()

    def test_stores_the_best_repetition_lowest_latency_highest_throughput(self):
        with Folder() as tmp:
            path = write(tmp, "a.json", report(day(0), {LAT: 6000.0, TP: 3e9},
                                               factors=[1.0, 1.2, 0.9, 1.1, 1.3]))
            self.assertEqual(run("--db", tmp / "h.sqlite", "add", path)[0], 0)
            db = sqlite3.connect(tmp / "h.sqlite")
            rows = dict(db.execute("SELECT benchmark, best FROM results"))
            db.close()
            self.assertAlmostEqual(rows[LAT], 6000.0 * 0.9)
            self.assertAlmostEqual(rows[TP], 3e9 * 1.3)

    def test_stores_the_other_host_regime_beside_the_value(self):
        with Folder() as tmp:
            path = write(tmp, "a.json", report(day(0), {LAT: 6000.0, TP: 3e9},
                                               factors=[1.0, 1.2, 0.9, 1.1, 1.3],
                                               other=(0.25, 3, 480.0)))
            alone = write(tmp, "b.json", report(day(1), {LAT: 6000.0}))
            self.assertEqual(run("--db", tmp / "h.sqlite", "add", path, alone)[0], 0)
            db = sqlite3.connect(tmp / "h.sqlite")
            rows = {(r[0], r[1]): r[2:] for r in db.execute(
                "SELECT run_id, benchmark, value, regime_line_ns, other_value, other_best, "
                "other_repetitions, other_regime_line_ns FROM results")}
            db.close()
            # The other regime's three repetitions: x 0.25, x the first three factors.
            self.assertEqual(rows[(1, LAT)][:2], (6000.0 * 1.1, 115.0))
            self.assertAlmostEqual(rows[(1, LAT)][2], 6000.0 * 0.25 * 1.0)
            self.assertAlmostEqual(rows[(1, LAT)][3], 6000.0 * 0.25 * 0.9)
            self.assertEqual(rows[(1, LAT)][4:], (3, 480.0))
            self.assertAlmostEqual(rows[(1, TP)][2], 3e9 * 0.25 * 1.0)
            self.assertAlmostEqual(rows[(1, TP)][3], 3e9 * 0.25 * 1.2)
            self.assertEqual(rows[(2, LAT)][2:], (None, None, None, None))

    def test_a_schema_1_history_gains_the_best_column_and_keeps_its_runs(self):
        with Folder() as tmp:
            db_path = tmp / "h.sqlite"
            run("--db", db_path, "add", write(tmp, "a.json", report(day(0), {LAT: 6000.0})))
            db = sqlite3.connect(db_path)  # as schema 1 left it: no best column, no other regime
            for column in ("best", "other_value", "other_best", "other_repetitions",
                           "other_regime_line_ns"):
                db.execute(f"ALTER TABLE results DROP COLUMN {column}")
            db.execute("PRAGMA user_version = 1")
            db.commit()
            db.close()
            status, out, err = run("--db", db_path, "add",
                                   write(tmp, "b.json", report(day(1), {LAT: 6100.0})))
            self.assertEqual((status, err), (0, ""), out)
            db = sqlite3.connect(db_path)
            self.assertEqual(db.execute("PRAGMA user_version").fetchone()[0], 3)
            self.assertEqual(db.execute("SELECT value, best FROM results ORDER BY run_id")
                             .fetchall(), [(6000.0, None), (6100.0, 6100.0)])
            db.execute("PRAGMA user_version = 4")
            db.commit()
            db.close()
            status, out, err = run("--db", db_path, "changes")
            self.assertEqual((status, out), (2, ""))
            self.assertIn("is a history of schema 4; this is schema 3", err)

    def test_db_may_come_after_the_command(self):
        with Folder() as tmp:
            path = write(tmp, "a.json", report(day(0), {LAT: 6000.0}))
            status, out, _ = run("add", "--db", tmp / "h.sqlite", path)
            self.assertEqual(status, 0)
            self.assertTrue((tmp / "h.sqlite").is_file())
            status, out, _ = run("export", "--db", tmp / "h.sqlite")
            self.assertEqual((status, len(out.splitlines())), (0, 2))

    def test_the_same_report_twice_is_a_no_op_even_compressed(self):
        with Folder() as tmp:
            data = report(day(0), {LAT: 6000.0})
            path = write(tmp, "a.json", data)
            gz = tmp / "a.json.gz"
            gz.write_bytes(gzip.compress(path.read_bytes()))
            self.assertEqual(run("--db", tmp / "h.sqlite", "add", path)[0], 0)
            status, out, _ = run("--db", tmp / "h.sqlite", "add", path, gz)
            self.assertEqual(status, 0)
            self.assertEqual(out.count("already in the history as run 1"), 2)
            db = sqlite3.connect(tmp / "h.sqlite")
            self.assertEqual(db.execute("SELECT COUNT(*) FROM runs").fetchone()[0], 1)
            self.assertEqual(db.execute("SELECT COUNT(*) FROM results").fetchone()[0], 1)
            db.close()

    def test_a_report_without_estimates_stores_the_median_of_its_repetitions(self):
        with Folder() as tmp:
            path = write(tmp, "a.json", report(day(0), {LAT: 6000.0}, estimates=False,
                                                noise=0.1))
            self.assertEqual(run("--db", tmp / "h.sqlite", "add", path)[0], 0)
            db = sqlite3.connect(tmp / "h.sqlite")
            value, lo = db.execute("SELECT value, lo FROM results").fetchone()
            db.close()
            self.assertGreater(value, 4000.0)
            self.assertLess(value, 9000.0)
            self.assertIsNone(lo)

    def test_bad_input_is_one_line_and_exit_2_and_adds_nothing(self):
        with Folder() as tmp:
            good = write(tmp, "good.json", report(day(0), {LAT: 6000.0}))
            (tmp / "bad.json").write_text("{not json", encoding="utf-8")
            (tmp / "list.json").write_text("[1, 2]", encoding="utf-8")
            (tmp / "other.sqlite").write_text("hello", encoding="utf-8")
            foreign = sqlite3.connect(tmp / "foreign.sqlite")
            foreign.execute("CREATE TABLE t (x)")
            foreign.commit()
            foreign.close()
            cases = [
                (["add", good, tmp / "bad.json"], "malformed JSON"),
                (["add", good, tmp / "list.json"], "not an ipcbench report"),
                (["add", tmp / "missing.json"], "no such report"),
                (["--db", tmp / "other.sqlite", "add", good], "cannot open"),
                (["--db", tmp / "foreign.sqlite", "add", good], "not an ipcbench history"),
                (["--db", tmp / "nofolder" / "h.sqlite", "add", good], "no folder"),
                (["add"], "REPORT"),
                (["frobnicate"], "invalid choice"),
            ]
            for args, words in cases:
                if args[0] != "--db":
                    args = ["--db", tmp / "h.sqlite", *args]
                with self.subTest(args=args[2:]):
                    status, out, err = run(*args)
                    self.assertEqual(status, 2)
                    self.assertEqual(out, "")
                    self.assertEqual(err.count("\n"), 1, err)
                    self.assertTrue(err.startswith("ipcbench-history: "), err)
                    self.assertIn(words, err)
            self.assertFalse((tmp / "h.sqlite").exists(), "nothing may be stored")

    def test_the_program_runs_as_users_run_it(self):
        with Folder() as tmp:
            path = write(tmp, "a.json", report(day(0), {LAT: 6000.0}))
            done = run_program("--db", tmp / "h.sqlite", "add", path)
            self.assertEqual(done.returncode, 0, done.stderr)
            done = run_program("--db", tmp / "h.sqlite", "--help")
            self.assertEqual(done.returncode, 0)
            self.assertIn("changes", done.stdout)
            done = run_program("--db", tmp / "h.sqlite", "changes", "--since", "tomorrow")
            self.assertEqual(done.returncode, 2)
            self.assertEqual(done.stderr.count("\n"), 1)
            self.assertNotIn("Traceback", done.stderr)


if __name__ == "__main__":
    unittest.main()
