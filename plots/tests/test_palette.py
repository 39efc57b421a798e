"""Charts with many ids: a distinct colour and marker pair per id, and direct labels."""

import copy
import json
import sys
import tempfile
import unittest
from pathlib import Path

PLOTS_DIR = Path(__file__).resolve().parents[1]
if str(PLOTS_DIR) not in sys.path:
    sys.path.insert(0, str(PLOTS_DIR))

from ipcbench_plots import figure, lines  # noqa: E402
from ipcbench_plots.report import load_report  # noqa: E402

FIXTURES = PLOTS_DIR / "tests" / "fixtures"
IDS = 36


def many_ids(tmp: str):
    """report-a with the pipe cloned into IDS ids over four families."""
    data = json.loads((FIXTURES / "report-a.json").read_text(encoding="utf-8"))
    pipe = [b for b in data["benchmarks"] if b["id"] == "pipe"]
    for i in range(IDS):
        for entry in pipe:
            clone = copy.deepcopy(entry)
            clone["id"] = f"m{i:02d}"
            clone["family"] = f"family {i % 4}"
            for key in ("name", "run_name"):
                clone[key] = clone[key].replace("pipe/", f"m{i:02d}/", 1)
            for key in ("rtt_p50_ns", "bytes_per_second"):
                if isinstance(clone.get(key), (int, float)):
                    clone[key] *= 1 + i / 10
            data["benchmarks"].append(clone)
    path = Path(tmp) / "many.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return load_report(path, "many")


class PaletteTest(unittest.TestCase):
    def test_pairs_never_repeat_and_neighbours_differ_in_both(self):
        pairs = [figure.style(i) for i in range(figure.DISTINCT_PAIRS)]
        self.assertEqual(len(set(pairs)), figure.DISTINCT_PAIRS)
        self.assertGreaterEqual(figure.DISTINCT_PAIRS, 100)
        for (c1, m1), (c2, m2) in zip(pairs, pairs[1:]):
            self.assertNotEqual(c1, c2)
            self.assertNotEqual(m1, m2)
        # The calibration floor's grey is nobody else's.
        self.assertNotIn(figure.FLOOR_COLOUR, figure.COLOURS)
        self.assertEqual(len(set(figure.COLOURS)), len(figure.COLOURS))

    def test_a_report_with_many_ids(self):
        with tempfile.TemporaryDirectory(prefix="ipcbench-plots-") as tmp:
            report = many_ids(tmp)
            writer = figure.ChartWriter([report], Path(tmp))
            series = writer.series()
            self.assertGreater(len(series), 30)
            styles = [(writer.palette.colour(s), writer.palette.marker(s)) for s in series]
            self.assertEqual(len(set(styles)), len(series))
            # A family's ids are consecutive, so within a family chart no colour repeats.
            family = writer.series("family 1")
            self.assertEqual(len({writer.palette.colour(s) for s in family}), len(family))

    def test_lines_are_labelled_where_they_end(self):
        from matplotlib.figure import Figure

        with tempfile.TemporaryDirectory(prefix="ipcbench-plots-") as tmp:
            report = many_ids(tmp)
            writer = figure.ChartWriter([report], Path(tmp))
            ax = Figure(figsize=(10, 6.2)).subplots()
            ends: dict = {}
            drawn = lines.draw_metric_vs_size(writer, ax, writer.series(), figure.THROUGHPUT,
                                              ends)
            figure.direct_labels(ax, ends)
            labels = {t.get_text(): t for t in ax.texts if t.get_text() in drawn}
            self.assertEqual(set(labels), set(drawn))
            self.assertGreater(len(labels), 30)
            # Each label sits at its line's last point, in its colour; the names are spread
            # apart so no two share a height.
            for name, label in labels.items():
                self.assertEqual(label.xy, ends[name][:2])
                self.assertEqual(label.get_color(), writer.palette.colour(name))
            heights = sorted(t.xyann[1] for t in labels.values() if t.xy[0] == 1048576)
            gaps = [b - a for a, b in zip(heights, heights[1:])]
            self.assertTrue(gaps and min(gaps) > 0.01, gaps)

    def test_spread(self):
        self.assertEqual(figure.spread([0.1, 0.5], 0.05), [0.1, 0.5])
        at = figure.spread([0.5, 0.5, 0.5], 0.1)
        self.assertAlmostEqual(at[1] - at[0], 0.1)
        at = figure.spread([0.95, 0.96, 0.97], 0.1)
        self.assertAlmostEqual(at[-1], figure.TOP)
        self.assertAlmostEqual(at[0], figure.TOP - 0.2)


if __name__ == "__main__":
    unittest.main()
