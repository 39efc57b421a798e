"""render.py as a program: the printed path, and one stderr line with exit 2 on bad input."""

import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

PLOTS_DIR = Path(__file__).resolve().parents[1]
FIXTURES = PLOTS_DIR / "tests" / "fixtures"
RENDER = PLOTS_DIR / "render.py"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(RENDER), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


class BadInputTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="ipcbench-plots-")
        self.out = Path(self.tmp.name) / "out"

    def tearDown(self):
        self.tmp.cleanup()

    def assert_bad_input(self, args: list, fragment: str):
        result = run(*args, "--out", self.out)
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertEqual(result.stdout, "")
        lines = result.stderr.splitlines()
        self.assertEqual(len(lines), 1, result.stderr)
        self.assertTrue(lines[0].startswith("render.py: "), lines[0])
        self.assertIn(fragment, lines[0])
        self.assertFalse(self.out.exists(), "nothing is written for bad input")

    def test_missing_file(self):
        missing = FIXTURES / "missing.json"
        self.assert_bad_input([missing], f"cannot read '{missing}': No such file or directory")

    def test_malformed_json(self):
        self.assert_bad_input([FIXTURES / "malformed.json"], "malformed JSON")

    def test_not_a_report(self):
        self.assert_bad_input([FIXTURES / "not-a-report.json"], "not an ipcbench report")

    def test_bad_second_report(self):
        self.assert_bad_input(
            [FIXTURES / "report-a.json", FIXTURES / "malformed.json"], "malformed.json"
        )

    def test_compare_json_needs_two_reports(self):
        self.assert_bad_input(
            [FIXTURES / "report-a.json", "--compare-json", FIXTURES / "compare-a-b.json"],
            "needs two reports",
        )

    def test_bad_compare_json(self):
        self.assert_bad_input(
            [
                FIXTURES / "report-a.json",
                FIXTURES / "report-b.json",
                "--compare-json",
                FIXTURES / "not-a-report.json",
            ],
            "not a compare JSON",
        )

    def test_usage_error(self):
        self.assert_bad_input([FIXTURES / "report-a.json", "--no-such-option"], "unrecognized")


class RenderProgramTest(unittest.TestCase):
    def test_prints_the_index_path(self):
        with tempfile.TemporaryDirectory(prefix="ipcbench-plots-") as tmp:
            out = Path(tmp) / "a"
            result = run(FIXTURES / "report-a.json", "--out", out)
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertEqual(result.stdout.strip().splitlines()[-1], str(out / "index.html"))
            self.assertTrue((out / "index.html").is_file())
            self.assertEqual(result.stderr, "")


if __name__ == "__main__":
    unittest.main()
