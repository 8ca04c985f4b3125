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


@pytest.fixture(params=["mars", "duke"])
def emptied(request, tmp_path, monkeypatch) -> tuple[str, Path]:
    """(layout, root) of a small dataset whose images hold no pixel: a dry run must not need any."""
    root = tmp_path / request.param
    write_dataset(request.param, root, identities=4, cameras=2, seed=5)
    for image in sorted(root.rglob("*.jpg")):
        image.write_bytes(b"")
    monkeypatch.chdir(tmp_path)
    return request.param, root


def test_dry_run_counts_each_role_without_reading_a_pixel(emptied, capsys, monkeypatch):
    layout, root = emptied
    out = dry_run(layout, root, capsys, monkeypatch)
    tracklets = load_tracklets(layout, root)
    rows = {line.split()[0]: [int(v) for v in line.split()[1:]] for line in out.splitlines()[2:5]}
    for role in ("train", "query", "gallery"):
        mine = [t for t in tracklets if t.role == role]
        assert rows[role] == [len(mine), len({t.pid for t in mine if t.pid}), sum(len(t.frames) for t in mine)]
    queries, gallery = Counter(t.role for t in tracklets)["query"], Counter(t.role for t in tracklets)["gallery"]
    assert f"ranks against {queries + gallery} gallery tracklets" in out


def test_dry_run_of_a_complete_dataset_finds_no_problem(emptied, capsys, monkeypatch):
    out = dry_run(*emptied, capsys, monkeypatch)
    assert out.rstrip().endswith("problems: none found")


def test_dry_run_writes_no_store(emptied, tmp_path, capsys, monkeypatch):
    dry_run(*emptied, capsys, monkeypatch)
    assert not list(tmp_path.glob("*.h5"))


def test_dry_run_names_frames_missing_from_disk(tmp_path, capsys, monkeypatch):
    """MARS lists its frames in metadata (the other layouts list folders: nothing can be listed and absent)."""
    root = tmp_path / "mars"
    write_dataset("mars", root, identities=4, cameras=2, seed=5)
    tracklets = load_tracklets("mars", root)
    gone = tracklets[-1].frames[0]
    gone.unlink()
    out = dry_run("mars", root, capsys, monkeypatch)
    total = sum(len(t.frames) for t in tracklets)
    assert f"problem: 1 of {total} frames the metadata lists are not on disk (first: {gone})" in out
