"""``flowprep extract --dry-run`` on the official MARS metadata (1.2 M names), this code beside another checkout.

The three official ``.mat`` files come from ``--info``; the name lists they imply are generated
(``flowprep.synth.like.implied_names``) and no frame exists, so the survey reports every frame
missing, as on a metadata-only copy. Each code tree runs as its own process (``PYTHONPATH``), in
turns, ``--repeat`` times; the table gives each one's median wall-clock and CPU seconds and its
largest peak RSS, and the ratio, so a busy machine slows both alike.

    nice -n 10 python benchmarks/bench_dry_run.py --info ../shared/real/mars-info --workdir /tmp/dry \
        --baseline ../main [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

RUN = "import flowprep; print(flowprep.__file__, flush=True); from flowprep.cli import main; main()"
HERE = Path(__file__).resolve().parents[1]


def prepare(info: Path, root: Path) -> None:
    """A MARS root with the official metadata, its implied name lists and empty frame folders."""
    import scipy.io

    from flowprep.synth.like import implied_names

    if (root / "info" / "test_name.txt").exists():
        return
    (root / "info").mkdir(parents=True, exist_ok=True)
    for name in ("tracks_train_info.mat", "tracks_test_info.mat", "query_IDX.mat"):
        shutil.copy(info / name, root / "info" / name)
    for subset in ("train", "test"):
        rows = scipy.io.loadmat(root / "info" / f"tracks_{subset}_info.mat")[f"track_{subset}_info"]
        (root / "info" / f"{subset}_name.txt").write_text("\n".join(implied_names(rows)) + "\n")
        (root / f"bbox_{subset}").mkdir(exist_ok=True)


def measure(code: Path, root: Path) -> dict:
    """One dry run with ``code`` first on the path: wall and CPU seconds, peak RSS, and its report."""
    env = {**os.environ, "PYTHONPATH": str(code)}
    command = [sys.executable, "-c", RUN, "extract", "--dataset", "mars", "--root", str(root), "--dry-run"]
    started = time.perf_counter()
    # run outside any checkout: python -c puts the working folder ahead of PYTHONPATH
    process = subprocess.Popen(command, env=env, cwd=root.parent, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    imported, _, output = process.stdout.read().partition("\n")
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{code}: dry run failed:\n{output}")
    if not Path(imported).is_relative_to(code):
        raise SystemExit(f"{code}: the run imported {imported} instead")
    return {"seconds": seconds, "cpu_seconds": usage.ru_utime + usage.ru_stime, "peak_rss_mb": usage.ru_maxrss / 1024,
            "report": output}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--info", type=Path, required=True, help="official MARS info/ folder (the three .mat files)")
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--baseline", type=Path, required=True, help="the other checkout's repository root")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    root = args.workdir / "mars"
    prepare(args.info, root)
    codes = {"this": HERE, "baseline": args.baseline.resolve()}
    runs: dict[str, list[dict]] = {label: [] for label in codes}
    for _ in range(args.repeat):
        for label, code in codes.items():
            runs[label].append(measure(code, root))
    if len({tuple(run["report"].splitlines()[1:]) for label in codes for run in runs[label]}) != 1:
        print("warning: the two codes' reports differ", file=sys.stderr)
    print(runs["this"][0]["report"])
    print("| code | median wall s | median CPU s | peak RSS MB |\n|---|---:|---:|---:|")
    medians = {}
    for label, code in codes.items():
        medians[label] = statistics.median(run["seconds"] for run in runs[label])
        cpu = statistics.median(run["cpu_seconds"] for run in runs[label])
        peak = max(run["peak_rss_mb"] for run in runs[label])
        print(f"| {label} ({code}) | {medians[label]:.2f} | {cpu:.2f} | {peak:.0f} |")
    print(f"baseline / this (wall): {medians['baseline'] / medians['this']:.2f}x; load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
