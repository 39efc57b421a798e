#!/usr/bin/python3
"""Render charts and an offline index.html from ipcbench reports; see plots/README.md.

usage: /usr/bin/python3 plots/render.py REPORT.json [MORE.json ...]
                        [--out DIR] [--compare-json FILE]
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ipcbench_plots.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
