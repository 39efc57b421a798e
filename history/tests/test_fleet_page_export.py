"""ipcbench-history fleet, page and export."""

import csv
import io
import json
import sqlite3
import unittest

from .helpers import Folder, day, report, run, write

LAT = "pipe/latency/64/cross"


def record(folder, host, *, exit=0, timed_out=False, commit="abc", sha="f00d", report_ok=True):
    (folder / f"{host}.run.json").write_text(json.dumps(
        {"host": host, "commit": commit, "binary_sha256": sha, "exit": exit,
         "timed_out": timed_out, "seconds": 12.5}), encoding="utf-8")
    if report_ok:
        write(folder, f"{host}.json", report(day(1), {LAT: 6000.0}, host=host, commit=commit))


class Fleet(unittest.TestCase):
    def test_every_host_good_and_alike(self):
        with Folder() as tmp:
            out_dir = tmp / "fleet"
            out_dir.mkdir()
            record(out_dir, "a")
            record(out_dir, "b")
            status, out, err = run("--db", tmp / "h.sqlite", "fleet", "--expect", "a,b", out_dir)
            self.assertEqual((status, err), (0, ""), out)
            self.assertIn("2 of 2 hosts added", out)

    def test_failed_timed_out_and_missing_hosts_are_named_and_the_others_kept(self):
        with Folder() as tmp:
            out_dir = tmp / "fleet"
            out_dir.mkdir()
            record(out_dir, "good")
            record(out_dir, "broke", exit=2, report_ok=False)
            record(out_dir, "slow", exit=None, timed_out=True, report_ok=False)
            record(out_dir, "lost", report_ok=False)
            status, out, _ = run("--db", tmp / "h.sqlite", "fleet",
                                 "--expect", "good,broke,slow,lost,ghost", out_dir)
            self.assertEqual(status, 1)
            self.assertIn("broke: the run failed (exit 2)", out)
            self.assertIn("slow: timed out after 12.5 s", out)
            self.assertIn("lost: the run ended but its report 'lost.json' is missing", out)
            self.assertIn("ghost: no run record", out)
            self.assertIn("1 of 5 hosts added", out)
            db = sqlite3.connect(tmp / "h.sqlite")
            self.assertEqual(db.execute("SELECT host FROM runs").fetchall(), [("good",)])
            db.close()

    def test_hosts_that_ran_other_code_are_named(self):
        with Folder() as tmp:
            out_dir = tmp / "fleet"
            out_dir.mkdir()
            record(out_dir, "a", commit="aaa", sha="1111")
            record(out_dir, "b", commit="bbb", sha="1111")
            record(out_dir, "c", commit="aaa", sha="2222")
            status, out, _ = run("--db", tmp / "h.sqlite", "fleet", out_dir)
            self.assertEqual(status, 1)
            self.assertIn("the hosts ran different commits: aaa on a, c; bbb on b", out)
            self.assertIn("the hosts ran different binaries (SHA-256): 1111 on a, b; 2222 on c",
                          out)
            self.assertIn("3 of 3 hosts added", out)

    def test_bad_input(self):
        with Folder() as tmp:
            (tmp / "empty").mkdir()
            (tmp / "junk").mkdir()
            (tmp / "junk" / "x.run.json").write_text("[]", encoding="utf-8")
            for args, words in ((["fleet", tmp / "nowhere"], "no such folder"),
                                (["fleet", tmp / "empty"], "no <host>.run.json"),
                                (["fleet", tmp / "junk"], "not a run record")):
                with self.subTest(args=args):
                    status, _, err = run("--db", tmp / "h.sqlite", *args)
                    self.assertEqual(status, 2)
                    self.assertEqual(err.count("\n"), 1, err)
                    self.assertIn(words, err)


class PageAndExport(unittest.TestCase):
    def test_page_charts_every_series_and_lists_the_changes(self):
        with Folder() as tmp:
            paths = [write(tmp, f"r{k}.json", report(day(k), {LAT: 6000.0 * (1.3 if k >= 8 else 1)},
                                                      commit=f"c{k}"))
                     for k in range(14)]
            paths.append(write(tmp, "other.json", report(day(3), {LAT: 7000.0}, host="other")))
            run("--db", tmp / "h.sqlite", "add", *paths)
            status, out, err = run("--db", tmp / "h.sqlite", "page", "--out", tmp / "page")
            self.assertEqual((status, err), (0, ""))
            html = (tmp / "page" / "index.html").read_text(encoding="utf-8")
            self.assertEqual(html.count("<svg"), 2)  # box and other, one series each
            self.assertIn("regression", html)
            self.assertIn("c7 &rarr; c8", html)
            self.assertNotIn("<script", html)
            self.assertIn("fleet/index.html", html)  # two machines: the fleet view beside it
            self.assertTrue((tmp / "page" / "fleet" / "index.html").is_file())

    def test_export_gives_every_result_as_csv(self):
        with Folder() as tmp:
            paths = [write(tmp, f"r{k}.json", report(day(k), {LAT: 6000.0 + k},
                                                    other=(0.5, 2, 480.0) if k else None))
                     for k in range(3)]
            run("--db", tmp / "h.sqlite", "add", *paths)
            status, out, _ = run("--db", tmp / "h.sqlite", "export")
            self.assertEqual(status, 0)
            rows = list(csv.DictReader(io.StringIO(out)))
            self.assertEqual([float(r["value"]) for r in rows], [6000.0, 6001.0, 6002.0])
            self.assertEqual(rows[0]["benchmark"], LAT)
            self.assertEqual(rows[0]["wake_floor_ns"], "5000.0")
            self.assertEqual(rows[0]["best"], "6000.0")
            self.assertEqual([r["other_value"] for r in rows], ["", "3000.5", "3001.0"])
            self.assertEqual([r["other_repetitions"] for r in rows], ["", "2", "2"])
            self.assertEqual(rows[2]["other_regime_line_ns"], "480.0")
            status, _, _ = run("--db", tmp / "h.sqlite", "export", "--out", tmp / "x.csv")
            self.assertEqual(status, 0)
            self.assertEqual(len((tmp / "x.csv").read_text().splitlines()), 4)


if __name__ == "__main__":
    unittest.main()
