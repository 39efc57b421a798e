#!/usr/bin/python3
"""Render charts and an offline index.html from ipcbench reports; see plots/README.md.

usage: /usr/bin/python3 plots/render.py REPORT.json [MORE.json ...]
                        [--out DIR] [--compare-json FILE]
       /usr/bin/python3 plots/render.py --fleet A.json B.json [C.json ...]
                        [--normalise wake|line] [--out DIR]
       /usr/bin/python3 plots/render.py --docs REPORT.json [--out DIR]
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ipcbench_plots.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
