"""The MARS adapter on the official metadata (../shared/real/mars-info, the three .mat files as MARS
ships them) with the name lists they imply, and `flowprep extract --dry-run` on it.

The name lists are not in shared/: they are generated from the track rows (row k's frames are names
start..end, all `<pid>C<cam>T<track>F<frame>.jpg`), which is what the release's lists hold. No frame
file exists, so the dry run's survey must report every frame as missing without failing. (The
command line of the dry run is tested on synthetic data in test_dry_run.py.)
"""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import scipy.io

from flowprep.datasets import load_tracklets
from flowprep.datasets.survey import RoleCount, survey
from flowprep.store import TrackletIndex
from flowprep.synth.like import implied_names
from reid.engine.evaluation import QueryGallery

OFFICIAL = Path(__file__).resolve().parents[1] / ".." / "shared" / "real" / "mars-info"
pytestmark = pytest.mark.skipif(
    not OFFICIAL.is_dir(), reason="../shared/real/mars-info is absent (not in a user's clone)"
)


@pytest.fixture(scope="module")
def official_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("mars-official") / "mars"
    info = root / "info"
    info.mkdir(parents=True)
    for name in ("tracks_train_info.mat", "tracks_test_info.mat", "query_IDX.mat"):
        shutil.copy(OFFICIAL / name, info / name)
    for subset in ("train", "test"):
        rows = scipy.io.loadmat(info / f"tracks_{subset}_info.mat")[f"track_{subset}_info"]
        (info / f"{subset}_name.txt").write_text("\n".join(implied_names(rows)) + "\n")
        (root / f"bbox_{subset}").mkdir()
    return root


@pytest.fixture(scope="module")
def official_tracklets(official_root):
    return load_tracklets("mars", official_root)


def test_official_metadata_gives_the_published_counts(official_tracklets) -> None:
    roles = Counter(t.role for t in official_tracklets)
    assert roles == {"train": 8298, "query": 1980, "gallery": 9330}
    assert len({t.pid for t in official_tracklets if t.role == "train"}) == 625
    assert all(t.pid != -1 for t in official_tracklets)  # the 870 junk test tracks are dropped
    assert sum(len(t.frames) for t in official_tracklets if t.role == "train") == 509_914


def test_matlab_protocol_ranks_against_11310_gallery_tracklets(official_tracklets) -> None:
    codes = {"train": 0, "query": 1, "gallery": 2}
    n = len(official_tracklets)
    index = TrackletIndex(
        name=np.array([t.name for t in official_tracklets], dtype=object), order=np.arange(n),
        pid=np.array([t.pid for t in official_tracklets]), camid=np.array([t.camid for t in official_tracklets]),
        role=np.array([codes[t.role] for t in official_tracklets], dtype=np.uint8), frame_start=np.zeros(n),
        frame_count=np.ones(n), skipped=np.array([""] * n, dtype=object),
    )
    assert len(QueryGallery.of_tracklets(index, "standard").gallery) == 9330
    matlab = QueryGallery.of_tracklets(index, "matlab")
    assert len(matlab.gallery) == len(set(matlab.gallery.tolist())) == 11310


def test_dry_run_survey_counts_the_download_and_reports_missing_frames(official_tracklets) -> None:
    report = survey(official_tracklets)
    assert report.counts["train"] == RoleCount(8298, 625, 509_914)
    assert (report.counts["query"].tracklets, report.counts["gallery"].tracklets) == (1980, 9330)
    assert report.matlab_gallery == 11310
    listed = sum(len(t.frames) for t in official_tracklets)  # junk frames are not listed
    missing = [p for p in report.problems if "not on disk" in p]
    assert len(missing) == 1 and missing[0].startswith(f"{listed} of {listed} frames")
    lines = report.lines()
    assert lines[1].split() == ["train", "8298", "625", "509914"]
    assert "ranks against 11310 gallery tracklets" in lines[4]
