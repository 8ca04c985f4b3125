"""``flowprep synth --like INFO_DIR``: a MARS with the structure of an official info/ folder."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest
import scipy.io
from click.testing import CliRunner

from flowprep.cli import cli
from flowprep.datasets import load_tracklets
from flowprep.errors import DatasetError
from flowprep.synth import write_dataset
from flowprep.synth.like import MarsStructure, write_like
from flowprep.synth.matlab import save_mat

REAL_INFO = Path(__file__).resolve().parents[1] / ".." / "shared" / "real" / "mars-info"

# (pid, camid, length) per row, as in the release: train people; test junk, distractors and people
TRAIN = [(1, 1, 5), (1, 1, 3), (1, 2, 120), (2, 1, 4), (2, 3, 6), (3, 2, 2), (3, 4, 7), (7, 1, 3), (7, 5, 4)]
TEST = [(-1, 1, 4), (-1, 3, 2), (0, 2, 3), (0, 5, 1), (4, 1, 6), (4, 2, 5), (4, 2, 3), (5, 3, 4), (5, 6, 8),
        (6, 1, 2), (6, 4, 9), (8, 2, 3), (8, 3, 5)]
QUERIES = [1, 3, 5, 8, 10, 12]  # 1-based test rows: junk, a distractor, then one per person


def write_info(folder: Path) -> Path:
    """A small official-style info folder: track info rows [start, end, pid, camid] and the query rows."""
    for subset, rows in (("train", TRAIN), ("test", TEST)):
        ends = np.cumsum([length for _, _, length in rows])
        table = [[end - length + 1, end, pid, camid] for end, (pid, camid, length) in zip(ends, rows)]
        save_mat(folder / f"tracks_{subset}_info.mat", {f"track_{subset}_info": np.array(table, dtype=np.int32)})
    save_mat(folder / "query_IDX.mat", {"query_IDX": np.array([QUERIES], dtype=np.uint16)})
    return folder


def expected_tracklets(train: list, test: list, queries: list[int]) -> Counter:
    """(pid, camid, frames, role) as the MARS adapter must read them: junk dropped, distractors never queries."""
    rows = [(pid, cam, n, "train") for pid, cam, n in train if pid != -1]
    for row, (pid, cam, n) in enumerate(test, start=1):
        if pid != -1:
            rows.append((pid, cam, n, "query" if row in queries and pid != 0 else "gallery"))
    return Counter(rows)


def read_back(root: Path) -> Counter:
    return Counter((t.pid, t.camid, len(t.frames), t.role) for t in load_tracklets("mars", root))


def test_the_adapter_reads_back_the_info_folders_structure(tmp_path: Path) -> None:
    info = write_info(tmp_path / "info")
    out = tmp_path / "mars"
    result = CliRunner().invoke(cli, ["synth", "--layout", "mars", "--like", str(info), "--out", str(out),
                                      "--frame-size", "32x16"])
    assert result.exit_code == 0, result.output
    assert read_back(out) == expected_tracklets(TRAIN, TEST, QUERIES)
    assert "4 query (4 identities)" in result.output and "2 junk tracklets" in result.output
    names = (out / "info" / "test_name.txt").read_text().split()
    assert names[0] == "00-1C1T0001F001.jpg" and "0004C2T0002F003.jpg" in names
    assert len(names) == sum(n for _, _, n in TEST)
    assert (out / "bbox_train" / "0001" / "0001C2T0001F120.jpg").is_file()
    frame = cv2.imread(str(out / "bbox_test" / "0000" / "0000C5T0001F001.jpg"))
    assert frame.shape == (32, 16, 3)
    assert {key: value.dtype for key, value in mat_variables(out / "info").items()} == {
        "track_train_info": np.int32, "track_test_info": np.int32, "query_IDX": np.uint16}


def mat_variables(info: Path) -> dict[str, np.ndarray]:
    """The variables of a MARS info folder's three .mat files."""
    variables = {}
    for name in ("tracks_train_info.mat", "tracks_test_info.mat", "query_IDX.mat"):
        variables.update({k: v for k, v in scipy.io.loadmat(info / name).items() if not k.startswith("__")})
    return variables


def test_synthetic_info_files_hold_what_the_real_ones_hold(tmp_path: Path) -> None:
    """Same variables, types, MATLAB format and shape structure ((N, 4) rows, one row of queries) as the
    release's files, both for a drawn MARS and for one --like the real folder."""
    if not REAL_INFO.is_dir():
        pytest.skip("../shared/real/mars-info is not mounted")
    real = mat_variables(REAL_INFO)
    write_dataset("mars", tmp_path / "drawn", identities=6, cameras=3, seed=0)
    write_like(REAL_INFO, tmp_path / "like", fraction=1 / 64, frame_size=(16, 8), seed=0)
    for root in (tmp_path / "drawn", tmp_path / "like"):
        synthetic = mat_variables(root / "info")
        assert {k: v.dtype for k, v in synthetic.items()} == {k: v.dtype for k, v in real.items()}
        assert {k: (v.ndim, v.shape[1] if k != "query_IDX" else v.shape[0]) for k, v in synthetic.items()} == {
            k: (v.ndim, v.shape[1] if k != "query_IDX" else v.shape[0]) for k, v in real.items()}
        for name in ("tracks_train_info.mat", "query_IDX.mat"):
            assert (root / "info" / name).read_bytes()[:19] == (REAL_INFO / name).read_bytes()[:19]  # MATLAB 5.0


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    info = write_info(tmp_path / "info")
    for name in ("a", "b"):
        write_like(info, tmp_path / name, fraction=1.0, frame_size=(16, 8), seed=3)
    files = [{p.relative_to(tmp_path / n): p.read_bytes() for p in (tmp_path / n).rglob("*.jpg")} for n in "ab"]
    assert files[0] == files[1] and len(files[0]) == sum(n for _, _, n in TRAIN + TEST)


def test_a_fraction_keeps_whole_identities_and_their_queries(tmp_path: Path) -> None:
    info = write_info(tmp_path / "info")
    full = expected_tracklets(TRAIN, TEST, QUERIES)
    picks = set()
    for seed in range(4):
        out = tmp_path / f"half{seed}"
        write_like(info, out, fraction=0.5, frame_size=(16, 8), seed=seed)
        got = read_back(out)
        assert not got - full  # every tracklet is one of the original ones, with its role
        for role in ("train", "query"):  # four people each, every test person queried
            pids = {pid for pid, _, _, r in got if r == role and pid > 0}
            assert len(pids) == 2
            # whole identities: every tracklet of a kept person is kept
            assert all(got[key] == full[key] for key in full if key[0] in pids)
        picks.add(frozenset(pid for pid, *_ in got))
    assert len(picks) > 1  # the seed picks the fraction


def test_the_real_mars_info_folder_has_the_published_size() -> None:
    if not REAL_INFO.is_dir():
        pytest.skip("../shared/real/mars-info is not mounted")
    structure = MarsStructure.read(REAL_INFO)
    lengths = {s: rows[:, 1] - rows[:, 0] + 1 for s, rows in structure.tracks.items()}
    assert (len(structure.tracks["train"]), len(structure.tracks["test"]), len(structure.query_rows)) == (8298, 12180, 1980)
    assert int(lengths["train"].sum() + lengths["test"].sum()) == 1_191_003
    sixteenth = structure.sample(1 / 16, seed=0)
    assert len(np.unique(sixteenth.tracks["train"][:, 2])) == round(625 / 16)
    assert 0 < len(sixteenth.query_rows) < 1980 / 8


@pytest.mark.parametrize("missing, message", [("query_IDX.mat", "query_IDX.mat: missing"),
                                               ("tracks_train_info.mat", "tracks_train_info.mat: missing")])
def test_an_incomplete_info_folder_is_a_one_line_error_naming_the_file(tmp_path: Path, missing, message) -> None:
    info = write_info(tmp_path / "info")
    (info / missing).unlink()
    with pytest.raises(DatasetError, match=message):
        write_like(info, tmp_path / "out", fraction=1.0, frame_size=(16, 8), seed=0)
    assert not (tmp_path / "out").exists()


def test_a_query_row_outside_the_test_tracks_is_refused(tmp_path: Path) -> None:
    info = write_info(tmp_path / "info")
    save_mat(info / "query_IDX.mat", {"query_IDX": np.array([[1, len(TEST) + 1]], dtype=np.uint16)})
    with pytest.raises(DatasetError, match=f"query_IDX.mat: query_IDX holds {len(TEST) + 1}"):
        write_like(info, tmp_path / "out", fraction=1.0, frame_size=(16, 8), seed=0)


@pytest.mark.parametrize("extra, message", [(["--layout", "duke"], "use it with --layout mars"),
                                            (["--layout", "mars", "--identities", "5"], "drop --identities")])
def test_like_refuses_options_it_cannot_honour(tmp_path: Path, extra, message) -> None:
    info = write_info(tmp_path / "info")
    result = CliRunner().invoke(cli, ["synth", "--like", str(info), "--out", str(tmp_path / "o"), *extra])
    assert result.exit_code == 2 and message in result.output
