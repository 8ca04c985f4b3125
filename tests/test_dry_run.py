"""`flowprep extract --dry-run`: counts per role and problems from the layout and metadata alone."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from flowprep.cli import main as flowprep_main
from flowprep.datasets import load_tracklets
from flowprep.synth import write_dataset
from clitools import run_console


def dry_run(dataset: str, root: Path, capsys, monkeypatch) -> str:
    code, out, err = run_console(flowprep_main, ["extract", "--dataset", dataset, "--root", str(root), "--dry-run"],
                                 capsys, monkeypatch)
    assert code == 0, err  # problems found are reported, not failures
    return out


@pytest.mark.parametrize("layout", ["mars", "duke"])
def test_dry_run_counts_without_reading_a_pixel_and_names_missing_frames(layout, tmp_path, capsys, monkeypatch):
    root = tmp_path / layout
    write_dataset(layout, root, identities=4, cameras=2, seed=5)
    images = sorted(root.rglob("*.jpg"))
    for image in images:  # no pixel left to read: a dry run must not care
        image.write_bytes(b"")
    monkeypatch.chdir(tmp_path)
    out = dry_run(layout, root, capsys, monkeypatch)
    tracklets = load_tracklets(layout, root)
    rows = {line.split()[0]: [int(v) for v in line.split()[1:]] for line in out.splitlines()[2:5]}
    for role in ("train", "query", "gallery"):
        mine = [t for t in tracklets if t.role == role]
        assert rows[role] == [len(mine), len({t.pid for t in mine if t.pid}), sum(len(t.frames) for t in mine)]
    queries, gallery = Counter(t.role for t in tracklets)["query"], Counter(t.role for t in tracklets)["gallery"]
    assert f"ranks against {queries + gallery} gallery tracklets" in out
    assert out.rstrip().endswith("problems: none found")
    assert not list(tmp_path.glob("*.h5"))

    if layout != "mars":
        return  # the other layouts list frames by reading folders: nothing can be listed and absent
    gone = tracklets[-1].frames[0]
    gone.unlink()
    out = dry_run(layout, root, capsys, monkeypatch)
    total = sum(len(t.frames) for t in tracklets)
    assert f"problem: 1 of {total} frames the metadata lists are not on disk (first: {gone})" in out
