"""Where extraction's memory goes at full size: the dataset adapter, and the assembly of a run's parts.

Each measurement runs in a fresh process with the chosen checkout first on the path (``--code``,
repeatable; default this one), after the imports, so the figures are what the step itself holds:

* ``adapter``: ``load_tracklets(DATASET, ROOT)``: the RSS held with every tracklet in hand;
* ``assemble``: ``concatenate_stores`` of STORE cut into ``--parts`` part files, as an extraction
  run's journal leaves them (its peak RSS above the imports).

    nice -n 10 python benchmarks/bench_extract_memory.py --root /tmp/scale/1-1/data \
        --store /tmp/scale/1-1/store.h5 --parts 230 --workdir /tmp/parts --code . --code ../main
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

CHILD = r'''
import json, resource, sys
from pathlib import Path
def rss():
    return next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmRSS:")) / 2**20 * 1024
import flowprep, h5py, scipy.io, cv2
from flowprep.datasets import DATASETS, load_tracklets
from flowprep.store import concatenate_stores
DATASETS.names()
step, source, out = sys.argv[1:4]
before = rss()
if step == "adapter":
    tracklets = load_tracklets(out, source)
    frames = sum(len(t.frames) for t in tracklets)
    held = rss() - before
else:
    parts = sorted(Path(source).glob("part-*.h5"))
    concatenate_stores(parts, Path(out))
    frames = None
    held = None
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"code": flowprep.__file__, "before_mb": before, "held_mb": held, "peak_above_mb": peak - before,
                  "frames": frames}))
'''


def cut_into_parts(store: Path, folder: Path, parts: int) -> None:
    """The store as ``parts`` part files of whole tracklets, each a complete store in store order."""
    import h5py
    import numpy as np

    folder.mkdir(parents=True, exist_ok=True)
    with h5py.File(store, "r") as f:
        tracklets = {k: f["tracklets"][k][:] for k in f["tracklets"]}
        frames = {k: f["frames"][k][:] for k in f["frames"]}
        starts, counts = tracklets["frame_start"], tracklets["frame_count"]
        cuts = np.searchsorted(starts, np.linspace(0, len(frames["name"]), parts + 1)[1:-1])
        edges = [0, *sorted(set(cuts.tolist())), len(starts)]
        for i, (a, b) in enumerate(zip(edges, edges[1:])):
            f0, f1 = int(starts[a]), int(starts[b - 1] + counts[b - 1])
            b0, b1 = int(frames["image_offset"][f0]), int(frames["flow_offset"][f1 - 1] + frames["flow_size"][f1 - 1])
            with h5py.File(folder / f"part-{i:06d}.h5", "w", libver=("v110", "v110")) as part:
                part.attrs.update(dict(f.attrs))
                part.create_dataset("blob", data=f["blob"][b0:b1], maxshape=(None,), chunks=(1 << 20,))
                for key, column in frames.items():
                    shift = b0 if key in ("image_offset", "flow_offset") else 0
                    part.create_dataset(f"frames/{key}", data=column[f0:f1] - shift if shift else column[f0:f1])
                for key, column in tracklets.items():
                    part.create_dataset(f"tracklets/{key}", data=column[a:b] - f0 if key == "frame_start" else column[a:b])


def measure(code: Path, step: str, source: Path, out: str, workdir: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(code)}
    result = subprocess.run([sys.executable, "-c", CHILD, step, str(source), out], env=env, cwd=workdir,
                            capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, required=True, help="a MARS dataset root (flowprep synth --like)")
    parser.add_argument("--dataset", default="mars")
    parser.add_argument("--store", type=Path, required=True, help="a store of that dataset, to cut into parts")
    parser.add_argument("--parts", type=int, default=230)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--code", type=Path, action="append", help="a checkout's root (repeatable)")
    args = parser.parse_args()
    codes = [c.resolve() for c in (args.code or [Path(__file__).resolve().parents[1]])]
    parts = args.workdir / "parts"
    if not parts.is_dir():
        cut_into_parts(args.store, parts, args.parts)
    print("| code | adapter: held MB (B/frame) | assembly of the parts: peak above imports MB (B/frame) |")
    print("|---|---:|---:|")
    for code in codes:
        adapter = measure(code, "adapter", args.root, args.dataset, args.workdir)
        assembly = measure(code, "assemble", parts, str(args.workdir / "joined.h5"), args.workdir)
        (args.workdir / "joined.h5").unlink()
        frames = adapter["frames"]
        per_frame = {k: r * 2**20 / frames for k, r in (("a", adapter["held_mb"]), ("s", assembly["peak_above_mb"]))}
        print(f"| {code} | {adapter['held_mb']:.0f} ({per_frame['a']:.0f}) | {assembly['peak_above_mb']:.0f} "
              f"({per_frame['s']:.0f}) |")
    print(f"{frames} frames, {len(list(parts.glob('part-*.h5')))} parts")


if __name__ == "__main__":
    main()
