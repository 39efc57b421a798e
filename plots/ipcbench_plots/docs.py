"""docs/run/: the README's pictures and headline from one report, and the report they came from.

`render.py --docs REPORT.json` renders the report into a temporary folder, copies DOC_CHARTS'
PNGs, writes the headline (headline.md), the machine (README.md) and a copy of the report
compressed with xz (report.json.xz: a full sweep's 17 MB of JSON takes about 1.3 MB, so a
regeneration does not add megabytes to the history) into docs/run/, and replaces the part of the
top-level README between DOCS_BEGIN and DOCS_END with the pictures and the headline.
"""

from __future__ import annotations

import lzma
import shutil
import tempfile
from pathlib import Path

from .headline import markdown
from .report import Report, text
from .units import n_repetitions

REPO = Path(__file__).resolve().parents[2]
DOCS_DIR = REPO / "docs" / "run"
REPORT_COPY = "report.json.xz"
README = REPO / "README.md"
DOCS_BEGIN = "<!-- docs:begin (written by plots/render.py --docs; edit plots/ipcbench_plots/docs.py) -->"
DOCS_END = "<!-- docs:end -->"
COMMAND = "/usr/bin/python3 plots/render.py --docs results/<host>-<time>.json"

# Each picture: the charts to try in order (the first one the report has), and its caption.
DOC_CHARTS = (
    (("ranking-latency-64B", "ranking-latency-1B", "ranking-throughput-1MiB"),
     "Which should I use: every mechanism's p50 round trip at 64 B, best first, with its p99"),
    (("latency-shared-memory-mmap", "latency-pipes-fifos", "latency-overview"),
     "One family up close: round trip against message size, spinning against sleeping"),
    (("throughput-overview",),
     "Throughput of every mechanism against message size, each line named where it ends"),
)


def write_docs(report: Report, out_dir: Path = DOCS_DIR) -> Path:
    """Writes the pictures, headline.md, README.md and report.json.xz; returns README.md's path."""
    from .cli import render

    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ipcbench-docs-") as tmp:
        render([report], None, Path(tmp))
        pictures = []
        for stems, caption in DOC_CHARTS:
            stem = next((s for s in stems if (Path(tmp) / f"{s}.png").is_file()), None)
            if stem:
                shutil.copyfile(Path(tmp) / f"{stem}.png", out_dir / f"{stem}.png")
                pictures.append((stem, caption))
    with open(report.path, "rb") as src, lzma.open(out_dir / REPORT_COPY, "wb", preset=9) as dst:
        shutil.copyfileobj(src, dst)
    headline = markdown(report)
    (out_dir / "headline.md").write_text(
        f"# Headline findings\n\nComputed by `plots/render.py` from [{REPORT_COPY}]({REPORT_COPY}) "
        f"({_source(report)}); the machine is described in [README.md](README.md).\n\n"
        + headline, encoding="utf-8")
    (out_dir / "README.md").write_text(_machine_page(report, pictures), encoding="utf-8")
    if out_dir.resolve() == DOCS_DIR.resolve() and README.is_file():
        _update_readme(README, pictures, headline, out_dir)
    return out_dir / "README.md"


def _source(report: Report) -> str:
    ib = report.ipcbench
    return (f"a copy of `{report.path.name}`, {text(ib.get('sweep')) or 'unrecorded'} sweep, "
            f"{n_repetitions(report.repetitions())}, ipcbench {text(ib.get('version')) or '?'} "
            f"at commit {text(ib.get('git_commit')) or '?'}")


MACHINE_ROWS = (
    ("host", lambda r: r.context.get("host_name")),
    ("date", lambda r: r.context.get("date")),
    ("CPU", lambda r: r.ipcbench.get("cpu_model")),
    ("CPUs usable", lambda r: r.ipcbench.get("cpu_count")),
    ("kernel", lambda r: r.ipcbench.get("kernel")),
    ("clock source", lambda r: r.ipcbench.get("clocksource")),
    ("cpufreq governor", lambda r: r.ipcbench.get("governor") or "none (no cpufreq, e.g. a VM)"),
    ("cpuidle", lambda r: r.ipcbench.get("cpuidle")),
    ("idle states", lambda r: r.ipcbench.get("idle_states")),
    ("placement", lambda r: (r.ipcbench.get("cpu_placement") or {}).get("reason")
     if isinstance(r.ipcbench.get("cpu_placement"), dict) else r.ipcbench.get("placement")),
    ("process model", lambda r: r.ipcbench.get("process_model")),
    ("library threads", lambda r: r.ipcbench.get("library_threads")),
    ("sweep", lambda r: f"{text(r.ipcbench.get('sweep'))}: {text(r.ipcbench.get('sizes'))} bytes"),
    ("repetitions", lambda r: r.repetitions()),
    ("target time per batch", lambda r: r.ipcbench.get("target_time_s")),
    ("compiler, build", lambda r: f"{text(r.ipcbench.get('compiler'))}, "
                                  f"{text(r.ipcbench.get('build_type'))}"),
    ("ipcbench", lambda r: f"{text(r.ipcbench.get('version'))} at "
                           f"{text(r.ipcbench.get('git_commit'))}"),
)


def _machine_page(report: Report, pictures: list[tuple[str, str]]) -> str:
    rows = "".join(
        f"| {name} | {_cell(text(get(report)) or 'not recorded')} |\n" for name, get in MACHINE_ROWS
    )
    files = "".join(f"- [{stem}.png]({stem}.png): {caption}\n" for stem, caption in pictures)
    return (
        "# The run behind the README's pictures\n\n"
        f"Everything here comes from [{REPORT_COPY}]({REPORT_COPY}) ({_source(report)}; "
        "`xz -d` gives the JSON, and `plots/render.py` reads it as it is). "
        "Regenerate it all, and the part of the top-level README that shows it, with one "
        f"command:\n\n    {COMMAND}\n\n"
        "## The machine\n\n| | |\n|---|---|\n" + rows + "\n"
        "## Files\n\n"
        "- [headline.md](headline.md): the headline findings, as on the top of the HTML report\n"
        f"- [{REPORT_COPY}]({REPORT_COPY}): the report itself, xz-compressed "
        "([results/README.md](../../results/README.md) describes it)\n"
        + files
    )


def _cell(value: str) -> str:
    return value.replace("|", "\\|").replace("\n", " ")


def _update_readme(readme: Path, pictures, headline: str, out_dir: Path) -> None:
    content = readme.read_text(encoding="utf-8")
    begin, end = content.find(DOCS_BEGIN), content.find(DOCS_END)
    if begin < 0 or end < begin:
        return
    rel = out_dir.resolve().relative_to(REPO.resolve()).as_posix()
    images = "".join(f"![{caption}]({rel}/{stem}.png)\n\n" for stem, caption in pictures)
    block = (
        f"{DOCS_BEGIN}\n{images}"
        f"Headline findings of that run ([{rel}/headline.md]({rel}/headline.md); the machine "
        f"and the command that regenerates all of this: [{rel}/README.md]({rel}/README.md)):\n\n"
        f"{headline}\n"
    )
    readme.write_text(content[:begin] + block + content[end:], encoding="utf-8")
