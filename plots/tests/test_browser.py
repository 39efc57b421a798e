"""index.html in a real browser (Debian's chromium, headless): every image loads."""

import json
import re
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

PLOTS_DIR = Path(__file__).resolve().parents[1]
if str(PLOTS_DIR) not in sys.path:
    sys.path.insert(0, str(PLOTS_DIR))

from ipcbench_plots.cli import render  # noqa: E402
from ipcbench_plots.compare import load_compare  # noqa: E402
from ipcbench_plots.report import load_report  # noqa: E402

FIXTURES = PLOTS_DIR / "tests" / "fixtures"
CHROMIUM = Path("/usr/bin/chromium")

# Loads each image of index.html and writes how many have a natural width into the DOM.
CHECK_PAGE = """<!DOCTYPE html><html><body><p id="result">pending</p><script>
const sources = %s;
let done = 0, loaded = 0;
const failed = [];
function finish() {
  if (++done === sources.length)
    document.getElementById("result").textContent =
        "loaded " + loaded + " of " + sources.length + " failed [" + failed.join(" ") + "]";
}
for (const src of sources) {
  const image = new Image();
  image.onload = () => { if (image.naturalWidth > 0) loaded++; else failed.push(src); finish(); };
  image.onerror = () => { failed.push(src); finish(); };
  image.src = src;
}
</script></body></html>
"""


@unittest.skipUnless(
    CHROMIUM.exists(),
    "no /usr/bin/chromium: apt-get install -y chromium to run " "the browser test",
)
class BrowserTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="ipcbench-plots-")
        reports = [load_report(FIXTURES / f"{n}.json", n) for n in ("report-a", "report-b")]
        compare = load_compare(FIXTURES / "compare-a-b.json")
        cls.index = render(reports, compare, Path(cls.tmp.name) / "ab")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def chromium(self, *args: str) -> str:
        profile = tempfile.mkdtemp(dir=self.tmp.name)
        command = [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={profile}",
            *args,
        ]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        self.assertEqual(result.returncode, 0, result.stderr[-2000:])
        return result.stdout

    def test_every_image_loads(self):
        sources = re.findall(r'<img src="([^"]+)"', self.index.read_text(encoding="utf-8"))
        self.assertGreater(len(sources), 20)
        check = self.index.parent / "_image_check.html"
        check.write_text(CHECK_PAGE % json.dumps(sources), encoding="utf-8")
        dom = self.chromium("--dump-dom", "--virtual-time-budget=10000", check.as_uri())
        self.assertIn(f"loaded {len(sources)} of {len(sources)} failed []", dom)

    def test_page_renders_and_screenshots(self):
        dom = self.chromium("--dump-dom", "--virtual-time-budget=10000", self.index.as_uri())
        self.assertIn("All numbers", dom)
        self.assertGreater(dom.count("<img "), 20)
        shot = Path(self.tmp.name) / "screenshot.png"
        self.chromium(f"--screenshot={shot}", "--window-size=1400,3000", self.index.as_uri())
        self.assertTrue(shot.read_bytes().startswith(b"\x89PNG"))

    def test_first_screen_is_the_headline(self):
        """At 1400x900 the headline findings are the first content and fill the top."""
        index = render([load_report(FIXTURES / "report-b.json", "b")], None,
                       Path(self.tmp.name) / "b")
        check = index.parent / "_first_screen.html"
        check.write_text(FIRST_SCREEN % index.name, encoding="utf-8")
        dom = self.chromium("--dump-dom", "--allow-file-access-from-files",
                            "--virtual-time-budget=10000", check.as_uri())
        found = re.search(r"first=(\S+) top=(\d+) bottom=(\d+) items=(\d+) visible=(\d+)",
                          dom)
        self.assertIsNotNone(found, dom[-2000:])
        first, top, bottom, items, visible = found.groups()
        self.assertEqual(first, "headline")
        self.assertLess(int(top), 200)
        self.assertGreaterEqual(int(items), 5)
        self.assertEqual(visible, items, "every finding starts on the first screen")
        dom = self.chromium("--dump-dom", index.as_uri())
        self.assertLess(dom.index('id="headline"'), dom.index("<h2", dom.index("</section>")))
        shot = Path(self.tmp.name) / "first-screen.png"
        self.chromium(f"--screenshot={shot}", "--window-size=1400,900", index.as_uri())
        png = shot.read_bytes()
        self.assertTrue(png.startswith(b"\x89PNG"))
        width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
        self.assertEqual((width, height), (1400, 900))


# Loads the report in a 1400x900 frame and writes where the headline is into the DOM.
FIRST_SCREEN = """<!DOCTYPE html><html><body style="margin:0">
<iframe id="page" src="%s" style="width:1400px;height:900px;border:0"></iframe>
<p id="result">pending</p><script>
document.getElementById("page").onload = () => {
  const doc = document.getElementById("page").contentDocument;
  const first = doc.querySelector("main > section, main > h2, main > nav, main > figure");
  const headline = doc.getElementById("headline");
  const box = headline.getBoundingClientRect();
  const items = headline.querySelectorAll("li");
  let visible = 0;
  for (const item of items) if (item.getBoundingClientRect().top < 900) visible++;
  document.getElementById("result").textContent = "first=" + (first ? first.id : "none") +
      " top=" + Math.round(box.top) + " bottom=" + Math.round(box.bottom) +
      " items=" + items.length + " visible=" + visible;
};
</script></body></html>
"""


if __name__ == "__main__":
    unittest.main()
