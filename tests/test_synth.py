"""The synthetic writer: every layout round-trips through the real adapter, deterministically."""

from __future__ import annotations

import math
import re
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest
import scipy.io
from click.testing import CliRunner

from flowprep.cli import cli
from flowprep.datasets import load_tracklets
from flowprep.errors import FlowprepError
from flowprep.synth import LAYOUTS, write_dataset
from flowprep.synth.figure import Placement, draw_walker
from flowprep.synth.identity import sample_identities

TINY = {"mars": 3, "duke": 3, "ilidsvid": 2, "prid": 2, "lsvid": 3, "mevid": 3}  # cameras for a 6-identity set
EXTENSIONS = {"mars": ".jpg", "duke": ".jpg", "ilidsvid": ".png", "prid": ".png", "lsvid": ".jpg", "mevid": ".jpg"}


def files_under(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module", params=sorted(LAYOUTS))
def written(request, tmp_path_factory):
    layout = request.param
    out = tmp_path_factory.mktemp("synth") / layout
    summary = write_dataset(layout, out, identities=6, cameras=TINY[layout], seed=11)
    return layout, out, summary


def test_adapter_reads_back_what_the_writer_intended(written) -> None:
    layout, out, summary = written
    tracklets = load_tracklets(layout, out)
    assert dict(Counter(t.role for t in tracklets)) == {r: n for r, n in summary.tracklets.items() if n}
    for role in ("train", "query", "gallery"):
        assert len({t.pid for t in tracklets if t.role == role and t.pid > 0}) == summary.identities[role]
    assert sum(len(t.frames) for t in tracklets) == summary.frames
    assert sum(t.pid == 0 for t in tracklets) == summary.distractors
    assert all(t.role == "gallery" for t in tracklets if t.pid == 0)
    assert all(t.pid != -1 for t in tracklets)
    assert len({t.name for t in tracklets}) == len(tracklets)
    images = [p for p in out.rglob("*") if p.suffix == EXTENSIONS[layout]]
    assert len(images) == summary.files
    dropped_on_disk = layout in ("mars", "prid", "lsvid")  # junk / single-camera persons: written, not read back
    assert (summary.files > summary.frames) if dropped_on_disk else (summary.files == summary.frames)


def test_train_and_test_identities_are_disjoint_and_queries_have_cross_camera_matches(written) -> None:
    layout, out, _ = written
    tracklets = load_tracklets(layout, out)
    train = {t.pid for t in tracklets if t.role == "train"}
    test = {t.pid for t in tracklets if t.role != "train" and t.pid > 0}
    assert train and test and not train & test
    gallery = {(t.pid, t.camid) for t in tracklets if t.role == "gallery"}
    for query in (t for t in tracklets if t.role == "query"):
        assert any(pid == query.pid and camid != query.camid for pid, camid in gallery)


def test_frames_are_real_images_at_the_datasets_size(written) -> None:
    layout, out, _ = written
    tracklets = load_tracklets(layout, out)
    lengths = [len(t.frames) for t in tracklets]
    assert min(lengths) == 1 and max(lengths) > 100
    height, width = LAYOUTS[layout].frame_size
    first, last = cv2.imread(str(tracklets[0].frames[0])), cv2.imread(str(tracklets[-1].frames[-1]))
    assert first.shape == last.shape == (height, width, 3)
    assert first.std() > 10  # a scene, not a blank


# the names each release gives its frames (folder, file), from the datasets' own documentation and torchreid
REAL_NAMES = {
    "mars": (r"(\d{4}|00-1)", r"(\d{4}|00-1)C\dT\d{4}F\d{3}\.jpg"),  # bbox_train/0001/0001C1T0001F001.jpg
    "duke": (r"\d{4}", r"\d{4}_C\d_F\d{4}_X\d{5}\.jpg"),  # train/0001/0001/0001_C6_F0099_X30823.jpg
    "ilidsvid": (r"person\d{3}", r"cam[12]_person\d{3}_\d{5}\.png"),  # cam1/person001/cam1_person001_00317.png
    "prid": (r"person_\d{4}", r"\d{4}\.png"),  # cam_a/person_0001/0001.png
    # the public readers' needs: four "_" fields, the camera third (tracklet_train/0001/<track>_<frame>_<cam>_<n>.jpg)
    "lsvid": (r"\d{4}", r"[^_/]+_\d+_\d{2}_[^_/]+\.jpg"),
    "mevid": (r"\d{4}", r"\d{4}O\d{3}C\d{3}T\d{3}F\d{5}\.jpg"),  # bbox_train/0201/0201O003C330T004F00192.jpg
}


def test_frames_carry_the_real_releases_names(written) -> None:
    layout, out, _ = written
    folder, file = (re.compile(pattern) for pattern in REAL_NAMES[layout])
    images = [p for p in out.rglob("*") if p.suffix == EXTENSIONS[layout]]
    assert images
    for image in images:
        assert folder.fullmatch(image.parent.name if layout != "duke" else image.parent.parent.name), image
        assert file.fullmatch(image.name), image
    if layout in ("duke", "ilidsvid", "mevid"):  # the person in the name is the person folder
        for image in images:
            assert re.search(r"\d{3,4}", image.name).group() in str(image.parent.relative_to(out))


def test_duke_older_frame_names_on_request_and_both_forms_read_the_same(tmp_path: Path) -> None:
    runner = CliRunner()
    for form in ("current", "older"):
        result = runner.invoke(cli, ["synth", "--layout", "duke", "--out", str(tmp_path / form), "--identities", "4",
                                     "--cameras", "2", "--seed", "3", "--frame-names", form])
        assert result.exit_code == 0, result.output
    older = sorted(p.name for p in (tmp_path / "older").rglob("*.jpg"))
    assert older and all(re.fullmatch(r"\d{4}C\dF\d{4}X\d{5}\.jpg", name) for name in older)
    current, old = (load_tracklets("duke", tmp_path / form) for form in ("current", "older"))
    assert [(t.name, t.pid, t.camid, t.role, len(t.frames)) for t in current] == [
        (t.name, t.pid, t.camid, t.role, len(t.frames)) for t in old
    ]


def test_frame_name_forms_are_refused_for_layouts_that_have_one(tmp_path: Path) -> None:
    args = ["synth", "--layout", "prid", "--out", str(tmp_path / "p"), "--frame-names", "older"]
    result = CliRunner().invoke(cli, args)
    assert isinstance(result.exception, FlowprepError)
    assert str(result.exception).startswith("prid: no frame-name form 'older'") and not (tmp_path / "p").exists()


def test_mars_metadata_has_the_release_variables_and_junk_on_disk(tmp_path: Path) -> None:
    summary = write_dataset("mars", tmp_path / "m", identities=6, cameras=3, seed=2)
    info = tmp_path / "m" / "info"
    test_info = scipy.io.loadmat(info / "tracks_test_info.mat")["track_test_info"]
    query_idx = scipy.io.loadmat(info / "query_IDX.mat")["query_IDX"]
    assert test_info.shape[1] == 4 and query_idx.shape == (1, summary.tracklets["query"])
    assert (test_info.dtype, query_idx.dtype) == (np.int32, np.uint16)  # the release's types
    assert {-1, 0} <= set(test_info[:, 2].astype(int).tolist())
    assert any((tmp_path / "m" / subset / "00-1").is_dir() for subset in ("bbox_train", "bbox_test"))
    assert summary.junk >= 2 and summary.distractors >= 1


def test_ilids_split_matrix_is_ten_permutations(tmp_path: Path) -> None:
    write_dataset("ilidsvid", tmp_path / "i", identities=6, cameras=2, seed=4)
    ls_set = scipy.io.loadmat(tmp_path / "i" / "train-test people splits" / "train_test_splits_ilidsvid.mat")["ls_set"]
    assert ls_set.shape == (10, 6)
    assert all(sorted(row) == [1, 2, 3, 4, 5, 6] for row in ls_set.astype(int).tolist())
    assert load_tracklets("ilidsvid", tmp_path / "i", split=0) != load_tracklets("ilidsvid", tmp_path / "i", split=5)


def test_prid_has_single_camera_persons_beyond_200(tmp_path: Path) -> None:
    summary = write_dataset("prid", tmp_path / "p", identities=6, cameras=2, seed=4)
    multi_shot = tmp_path / "p" / "prid_2011" / "multi_shot"
    cam_a = {p.name for p in (multi_shot / "cam_a").iterdir()}
    cam_b = {p.name for p in (multi_shot / "cam_b").iterdir()}
    assert len(cam_b) > len(cam_a) > 6 and cam_a & cam_b >= {f"person_{i:04d}" for i in range(1, 7)}
    assert summary.unused == len(cam_a) + len(cam_b) - 12


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        write_dataset("mars", tmp_path / name, identities=2, cameras=2, seed=seed)
    first, again, other = (files_under(tmp_path / name) for name in "abc")
    assert first == again
    assert first != other


def test_cli_writes_and_summarises(tmp_path: Path) -> None:
    out = tmp_path / "cli"
    arguments = ["synth", "--layout", "prid", "--out", str(out), "--identities", "4", "--seed", "1"]
    result = CliRunner().invoke(cli, arguments)
    assert result.exit_code == 0, result.output
    assert "synthetic prid dataset" in result.output and "2 query (2 identities)" in result.output
    assert len(load_tracklets("prid", out)) == 8


def test_cli_help_documents_the_default_sizes() -> None:
    result = CliRunner().invoke(cli, ["synth", "--help"])
    assert result.exit_code == 0 and "mars: 80 identities, 6 cameras" in " ".join(result.output.split())


@pytest.mark.parametrize(
    "layout, identities, cameras, message",
    [("prid", 6, 3, "cameras must be 2..2"), ("prid", 201, 2, "identities must be 2..200"),
     ("mars", 6, 7, "cameras must be 2..6"), ("tiff", 6, 2, "unknown layout")],
)
def test_sizes_the_layout_cannot_express_are_refused(tmp_path: Path, layout, identities, cameras, message) -> None:
    with pytest.raises(FlowprepError, match=message):
        write_dataset(layout, tmp_path / "x", identities=identities, cameras=cameras, seed=0)


def test_refuses_to_write_into_a_non_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(FlowprepError, match="not an empty directory"):
        write_dataset("mars", tmp_path, identities=2, cameras=2, seed=0)
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_clothing_twins_differ_in_gait() -> None:
    identities = sample_identities(np.random.default_rng(0), 60, twin_fraction=0.3)
    twins = [(a, b) for i, a in enumerate(identities) for b in identities[i + 1:] if a.clothing == b.clothing]
    assert twins
    for a, b in twins:
        assert abs(math.log(a.gait.frequency / b.gait.frequency)) > 0.3
        assert abs(a.gait.arm_swing - b.gait.arm_swing) > 0.2


def test_the_figure_moves_with_the_gait_phase() -> None:
    who = sample_identities(np.random.default_rng(1), 1)[0]
    frames = []
    for phase in (0.0, math.pi / 2):
        canvas = np.zeros((200, 100, 3), np.uint8)
        draw_walker(canvas, who, Placement(50, 190, 170, phase, view=math.pi / 2, direction=1))
        frames.append(canvas)
    assert frames[0].any() and (frames[0] != frames[1]).any(axis=2).mean() > 0.02


def test_the_summary_counts_one_tracklet_in_the_singular_and_more_in_the_plural():
    from flowprep.synth.summary import SynthSummary

    counts = {role: 1 for role in ("train", "query", "gallery")}
    one = SynthSummary("mars", Path("d"), 0, 2, counts, counts, 4, junk=1, distractors=1, unused=1, files=7)
    two = SynthSummary("mars", Path("d"), 0, 2, counts, counts, 4, junk=2, distractors=2, unused=2, files=10)
    assert "1 distractor tracklet (" in one.describe() and "1 junk tracklet (" in one.describe()
    assert "1 single-camera tracklet the adapter ignores" in one.describe()
    assert "2 distractor tracklets (" in two.describe() and "2 single-camera tracklets" in two.describe()
