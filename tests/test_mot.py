"""The MOT adapter: tracker output (MOTChallenge layout) cropped into tracklets, on real footage and on made-up frames."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from flowprep.cli import cli
from flowprep.datasets import load_tracklets
from flowprep.datasets.mot import FrameSource
from flowprep.errors import DatasetError
from flowprep.store import open_store
from helpers_mount import read_only_bind

VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")
VTEST_TRACKS = Path(__file__).parent / "data" / "vtest_tracks.txt"


def flowprep(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_vtest_tracks_become_a_gallery_store(tmp_path):
    if not VTEST.is_file():
        pytest.skip("opencv-doc's vtest.avi is not installed: apt-get install opencv-doc")
    sequence = tmp_path / "root" / "vtest"
    (sequence / "gt").mkdir(parents=True)
    (sequence / "vtest.avi").symlink_to(VTEST)
    (sequence / "gt" / "gt.txt").write_bytes(VTEST_TRACKS.read_bytes())
    boxes = Counter(int(line.split(",")[1]) for line in VTEST_TRACKS.read_text().splitlines())
    store = tmp_path / "vtest.h5"

    flowprep("extract", "--dataset", "mot", "--root", str(tmp_path / "root"), "--out", str(store),
             "--flow", "dis", "--size", "64x32", "--workers", "1", "--quiet")
    counts = json.loads(flowprep("inspect", str(store), "--json"))["roles"]
    assert counts["gallery"] == {"tracklets": len(boxes), "identities": len(boxes), "frames": sum(boxes.values())}
    assert counts["train"]["tracklets"] == counts["query"]["tracklets"] == 0
    with open_store(store) as reader:
        t = reader.tracklets
        assert sorted(t.pid.tolist()) == sorted(boxes) and set(t.camid.tolist()) == {1}
        assert {int(p): int(n) for p, n in zip(t.pid, t.frame_count)} == dict(boxes)
        first = int(np.argmax(t.pid == min(boxes)))
        assert reader.frame_names(first)[:2] == ["000001.jpg", "000002.jpg"]
        _, flows = reader.read_clip(first, range(5))
    assert np.abs(flows).max() > 0.1  # people walk: the crops show motion
    shown = flowprep("show", str(store), "--tracklet", f"vtest_id{min(boxes)}", "--out", str(tmp_path / "flow.png"))
    assert "vtest_id" in shown and cv2.imread(str(tmp_path / "flow.png")).shape[0] == 2 * 128  # frames above flow, 64 px tiles shown at 128


def write_sequence(root: Path, name: str, tracks: str, frames: int = 4, ground_truth: bool = False) -> Path:
    """A sequence of 60x40 numbered frames whose pixel values encode (frame, row): crops can be traced back."""
    folder = root / name / "img1"
    folder.mkdir(parents=True)
    for number in range(1, frames + 1):
        image = np.zeros((60, 40, 3), np.uint8)
        image[..., 0] = 50 * number
        image[..., 1] = np.arange(60)[:, None] * 4
        cv2.imwrite(str(folder / f"{number:06d}.png"), image)
    track_file = root / name / ("gt/gt.txt" if ground_truth else "tracks.txt")
    track_file.parent.mkdir(exist_ok=True)
    track_file.write_text(tracks)
    return track_file


def test_boxes_are_clipped_small_ones_dropped_and_sequences_numbered(tmp_path):
    root, cache = tmp_path / "root", tmp_path / "cache"
    write_sequence(root, "cam_a", "1,7,11,21,10,20\n2,7,31,51,20,20\n3,7,1,1,2,2\n2,9,5,5,8,8\n")
    write_sequence(root, "cam_b", "1,7,1,1,8,8,0,1\n2,3,1,1,8,8,1,1\n", ground_truth=True)
    tracklets = load_tracklets("mot", root, cache=cache)
    assert [(t.name, t.pid, t.camid, t.role, len(t.frames)) for t in tracklets] == [
        ("cam_a_id7", 7, 1, "gallery", 2),  # frame 3's 2x2 box is too small
        ("cam_a_id9", 9, 1, "gallery", 1),
        ("cam_b_id3", 3, 2, "gallery", 1),  # gt line with flag 0 left out
    ]
    first, clipped = (cv2.imread(str(path)) for path in tracklets[0].frames)
    assert first.shape == (20, 10, 3)
    assert abs(int(first[0, 0, 0]) - 50) <= 3 and abs(int(first[0, 0, 1]) - 4 * 20) <= 3  # frame 1, row 20: 1-based corner
    assert clipped.shape == (10, 10, 3)  # the box ran 10 pixels past the bottom and right edges


def test_crops_go_to_the_cache_folder(tmp_path):
    write_sequence(tmp_path / "root", "cam_a", "1,7,11,21,10,20\n")
    tracklets = load_tracklets("mot", tmp_path / "root", cache=tmp_path / "cache")
    assert tracklets[0].frames == (tmp_path / "cache" / "cam_a" / "7" / "000001.jpg",)


def test_without_a_cache_folder_mot_is_a_one_line_error(tmp_path):
    write_sequence(tmp_path, "seq", "1,1,1,1,10,10\n")
    with pytest.raises(DatasetError, match="pass one \\(flowprep extract --cache DIR") as info:
        load_tracklets("mot", tmp_path)
    assert "\n" not in str(info.value)


def test_crops_are_reused_until_the_track_file_changes(tmp_path, monkeypatch):
    track_file = write_sequence(tmp_path / "root", "seq", "1,1,1,1,10,10\n2,1,2,2,10,10\n")
    cache = tmp_path / "cache"
    before = load_tracklets("mot", tmp_path / "root", cache=cache)

    def no_decoding(self, wanted):
        raise AssertionError("crops should have been reused")

    with monkeypatch.context() as patch:
        patch.setattr(FrameSource, "frames", no_decoding)
        assert load_tracklets("mot", tmp_path / "root", cache=cache) == before
    track_file.write_text("1,1,1,1,10,10\n2,1,2,2,10,10\n3,1,3,3,10,10\n")
    assert len(load_tracklets("mot", tmp_path / "root", cache=cache)[0].frames) == 3


@pytest.mark.parametrize("tracks, message", [
    ("1,1,1,1,10\n", r"tracks.txt:1: expected frame,id,x,y,w,h"),
    ("1,1,1,1,10,10\n1,1,2,2,10,10\n", r"tracks.txt:2: track 1 has a second box in frame 1"),
    ("0,1,1,1,10,10\n", r"tracks.txt:1: frame numbers start at 1"),
    ("9,1,1,1,10,10\n", r"img1: frame 9 is missing"),
])
def test_bad_track_files_are_one_line_errors_naming_the_file(tmp_path, tracks, message):
    write_sequence(tmp_path / "root", "seq", tracks)
    with pytest.raises(DatasetError, match=message) as info:
        load_tracklets("mot", tmp_path / "root", cache=tmp_path / "cache")
    assert "\n" not in str(info.value)


def test_a_sequence_without_frames_names_the_layout(tmp_path):
    (tmp_path / "seq").mkdir()
    (tmp_path / "seq" / "tracks.txt").write_text("1,1,1,1,10,10\n")
    with pytest.raises(DatasetError, match="no img1/ folder and no video file"):
        load_tracklets("mot", tmp_path, cache=tmp_path / "cache")


def test_a_sequence_without_tracks_names_the_layout(tmp_path):
    (tmp_path / "seq").mkdir()
    with pytest.raises(DatasetError, match="no gt/gt.txt and no tracks.txt"):
        load_tracklets("mot", tmp_path, cache=tmp_path / "cache")


def snapshot(folder: Path) -> list[tuple[str, int, int]]:
    """Every path under ``folder`` with its size and modification time: what a write would change."""
    return sorted((str(p.relative_to(folder)), p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*"))


@pytest.fixture
def read_only_root(tmp_path, monkeypatch):
    """(a MOT root on a read-only bind mount, the folder behind it); where mounting is refused, creating
    folders under the root fails as it would there."""
    source, view = tmp_path / "source", tmp_path / "data"
    write_sequence(source, "seq", "1,1,1,1,10,10\n2,1,2,2,10,10\n3,2,5,5,12,12\n")
    with read_only_bind(source, view) as mounted:
        if not mounted:
            view, real_mkdir = source, Path.mkdir

            def mkdir(path, *args, **kwargs):
                if Path(path).resolve().is_relative_to(source.resolve()):
                    raise OSError(30, "Read-only file system", str(path))
                return real_mkdir(path, *args, **kwargs)

            monkeypatch.setattr(Path, "mkdir", mkdir)
        yield view, source


def extract_mot(root: Path, out: Path, *flags: str):
    return CliRunner().invoke(cli, ["extract", "--dataset", "mot", "--root", str(root), "--out", str(out),
                                    "--flow", "dis", "--size", "32x16", "--workers", "0", "--quiet", *flags])


def test_extract_from_a_read_only_root_succeeds(read_only_root, tmp_path):
    root, _ = read_only_root
    result = extract_mot(root, tmp_path / "out" / "mot.h5")
    assert result.exit_code == 0, result.output
    with open_store(tmp_path / "out" / "mot.h5") as reader:
        assert len(reader.tracklets.pid) == 2


def test_extract_writes_nothing_under_the_dataset_root(read_only_root, tmp_path):
    root, source = read_only_root
    before = snapshot(source)
    assert extract_mot(root, tmp_path / "out" / "mot.h5").exit_code == 0
    assert snapshot(source) == before


def test_crops_go_beside_the_store_by_default(read_only_root, tmp_path):
    root, _ = read_only_root
    assert extract_mot(root, tmp_path / "out" / "mot.h5").exit_code == 0
    assert sorted(p.name for p in (tmp_path / "out" / "mot.cache" / "seq").iterdir()) == ["1", "2", "manifest.json"]


def test_the_cache_flag_chooses_the_crop_folder(read_only_root, tmp_path):
    root, _ = read_only_root
    assert extract_mot(root, tmp_path / "out" / "mot.h5", "--cache", str(tmp_path / "crops")).exit_code == 0
    assert (tmp_path / "crops" / "seq" / "manifest.json").is_file()
    assert not (tmp_path / "out" / "mot.cache").exists()


def test_a_dry_run_writes_nothing_and_counts_what_the_extraction_would_crop(tmp_path, monkeypatch):
    root = tmp_path / "root"
    write_sequence(root, "cam_a", "1,7,11,21,10,20\n2,7,31,51,20,20\n3,7,1,1,2,2\n2,9,5,5,8,8\n")
    monkeypatch.chdir(tmp_path)  # where the default cache, mot.cache/, would go
    before = snapshot(tmp_path)
    output = flowprep("extract", "--dataset", "mot", "--root", str(root), "--dry-run")
    assert snapshot(tmp_path) == before
    assert "crops are made by the extraction, into mot.cache (nothing written now)" in output
    assert ["gallery", "2", "2", "3"] in [line.split() for line in output.splitlines()]  # frame 3's 2x2 box dropped, as extraction does
    assert "not on disk" not in output
    crops = load_tracklets("mot", root, cache=tmp_path / "made")  # and a real extraction's adapter agrees
    assert sum(len(t.frames) for t in crops) == 3
