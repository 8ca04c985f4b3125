"""MEVID: the adapter on the synthetic official layout, against the authors' reader's logic; outfits
through extraction into the store; the clothes-changing protocol of the evaluation."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from flowprep.cli import cli
from flowprep.datasets import load_tracklets
from flowprep.extract import ExtractOptions, extract
from flowprep.store import open_store
from helpers_datasets import raises_one_line, synthetic_root
from reid.engine.evaluation import evaluate_model
from reid.metrics import evaluate
from reid.models import build_model
from reid.report import format_table


@pytest.fixture(scope="module")
def mevid(tmp_path_factory) -> Path:
    return synthetic_root(tmp_path_factory, "mevid", seed=3)


def authors_reader_counts(root: Path) -> Counter:
    """(role, pid, outfit, camera, frames) per tracklet, by the logic of the MEVID authors' reader
    (Kitware/MEVID, AP3D/tools/data_manager.py): 0-based rows into the name lists, query_IDX 0-based,
    the gallery every other test row, junk and empty rows skipped."""
    counts: Counter = Counter()
    query = set(np.loadtxt(root / "query_IDX.txt").astype(int).reshape(-1).tolist())
    for subset in ("train", "test"):
        names = (root / f"{subset}_name.txt").read_text().split()
        for row, (start, end, pid, outfit, camid) in enumerate(np.loadtxt(root / f"track_{subset}_info.txt").astype(int)):
            frames = names[start : end + 1]
            if pid == -1 or not frames:
                continue
            role = "train" if subset == "train" else ("query" if row in query else "gallery")
            counts[role, int(pid), int(outfit), int(camid), len(frames)] += 1
    return counts


def test_adapter_agrees_with_the_authors_reader_and_keeps_outfits(mevid: Path) -> None:
    tracklets = load_tracklets("mevid", mevid)
    assert Counter((t.role, t.pid, t.outfit, t.camid, len(t.frames)) for t in tracklets) == authors_reader_counts(mevid)
    assert len({t.outfit for t in tracklets if t.role != "train"}) > 1
    frame = tracklets[0].frames[0]
    assert frame.is_file() and frame.parent.name == f"{tracklets[0].pid:04d}" and frame.name.startswith(tracklets[0].name)
    assert all(int(p.name.split("F")[1][:5]) < int(q.name.split("F")[1][:5])
               for t in tracklets for p, q in zip(t.frames, t.frames[1:]))


def test_rows_are_zero_based_and_a_row_spanning_no_name_is_dropped(mevid: Path, tmp_path: Path) -> None:
    root = tmp_path / "copy"
    shutil.copytree(mevid, root)
    info = root / "track_train_info.txt"
    rows = np.loadtxt(info)
    rows = np.vstack([rows, [5, 4, rows[0, 2], rows[0, 3], rows[0, 4]]])  # end before start: nothing
    np.savetxt(info, rows)
    assert len(load_tracklets("mevid", root)) == len(load_tracklets("mevid", mevid))
    rows[0, 0] = -1
    np.savetxt(info, rows)
    with raises_one_line(f"{info}: row 1 spans names -1.."):
        load_tracklets("mevid", root)


@pytest.mark.parametrize("column, value, message", [
    (4, 999, "frames disagree with track_test_info.txt row 1"),  # the row's camera is not the names'
    (2, 4321, "frames disagree with track_test_info.txt row 1"),
])
def test_a_row_that_contradicts_its_frame_names_is_refused(mevid: Path, tmp_path: Path, column, value, message) -> None:
    root = tmp_path / "copy"
    shutil.copytree(mevid, root)
    rows = np.loadtxt(root / "track_test_info.txt")
    rows[0, column] = value
    np.savetxt(root / "track_test_info.txt", rows)
    with raises_one_line(message):
        load_tracklets("mevid", root)


@pytest.mark.parametrize("contents, message", [
    ("1 2 3\n", "3 columns, expected 5"), ("0 1 2 x 4\n", "unreadable table"), ("0 1.5 2 1 4\n", "non-integer"),
])
def test_bad_track_info_is_a_one_line_error_naming_the_file(mevid: Path, tmp_path: Path, contents, message) -> None:
    root = tmp_path / "copy"
    shutil.copytree(mevid, root)
    (root / "track_train_info.txt").write_text(contents)
    with raises_one_line(message) as error:
        load_tracklets("mevid", root)
    assert str(root / "track_train_info.txt") in str(error.value)


def test_a_query_index_outside_the_test_rows_is_refused(mevid: Path, tmp_path: Path) -> None:
    root = tmp_path / "copy"
    shutil.copytree(mevid, root)
    rows = len(np.loadtxt(root / "track_test_info.txt"))
    (root / "query_IDX.txt").write_text(f"{rows}\n")
    with raises_one_line(f"holds {rows}, outside the {rows} test rows (0-based)"):
        load_tracklets("mevid", root)


def test_outfits_reach_the_store_and_evaluation_reports_both_clothes_conditions(mevid: Path, tmp_path: Path) -> None:
    out = tmp_path / "mevid.h5"
    extract(ExtractOptions(dataset="mevid", root=mevid, out=out, height=64, width=32), progress=False)
    expected = {t.name: t.outfit for t in load_tracklets("mevid", mevid)}
    with open_store(out) as store:
        assert dict(zip(store.tracklets.name, store.tracklets.outfit.tolist())) == expected
        torch.manual_seed(0)
        model = build_model("baseline", num_classes=4, backbone="resnet_tiny")
        evaluation = evaluate_model(model, store, seq_len=4, device=torch.device("cpu"))
    assert set(evaluation.clothes) == {"same", "changed"}
    scores = evaluation.as_dict()["clothes"]
    assert all(scores[c] is None or 0 <= scores[c]["mAP"] <= 1 for c in ("same", "changed"))
    assert scores["same"]["valid_queries"] > 0 and scores["changed"]["valid_queries"] > 0
    table = format_table(evaluation)
    assert "same outfit" in table and "changed outfit" in table


def test_a_store_without_outfits_reports_no_clothes_conditions(store: Path) -> None:
    with open_store(store) as reader:
        assert not reader.tracklets.has_outfits()


def test_clothes_conditions_count_only_their_outfits_as_matches() -> None:
    # one query (pid 1, camera 1, outfit 1); gallery in distance order: pid 1 outfit 2 camera 2,
    # pid 2, pid 1 outfit 1 camera 3, pid 1 outfit 1 camera 1 (same camera: never counted)
    distances = torch.tensor([[0.1, 0.2, 0.3, 0.05]])
    pids, cams, outfits = (np.array([1, 2, 1, 1]), np.array([2, 2, 3, 1]), np.array([2, 1, 1, 1]))
    args = (distances, np.array([1]), pids, np.array([1]), cams)
    everything = evaluate(*args, max_rank=4)
    same = evaluate(*args, max_rank=4, outfits=(np.array([1]), outfits), clothes="same")
    changed = evaluate(*args, max_rank=4, outfits=(np.array([1]), outfits), clothes="changed")
    assert everything.cmc[0] == 1 and everything.mAP == pytest.approx((1 + 2 / 3) / 2)
    assert same.cmc[0] == 0 and same.cmc[1] == 1 and same.mAP == pytest.approx(1 / 2)  # the changed outfit is dropped
    assert changed.cmc[0] == 1 and changed.mAP == pytest.approx(1.0)


def structure(root: Path) -> Counter:
    return Counter((t.role, t.pid, t.outfit, t.camid, len(t.frames)) for t in load_tracklets("mevid", root))


def test_synth_like_copies_an_annotation_folders_structure(mevid: Path, tmp_path: Path) -> None:
    annotation = tmp_path / "annotation"
    annotation.mkdir()
    for name in ("track_train_info.txt", "track_test_info.txt", "query_IDX.txt"):
        shutil.copy(mevid / name, annotation / name)
    rows = np.loadtxt(annotation / "track_test_info.txt")
    end = rows[:, 1].max()
    np.savetxt(annotation / "track_test_info.txt",  # a junk row and an empty row, both dropped by the adapter
               np.vstack([rows, [end + 1, end + 3, -1, 1, rows[0, 4]], [end + 4, end + 3, 1, 1, rows[0, 4]]]))
    out = tmp_path / "like"
    result = CliRunner().invoke(cli, ["synth", "--layout", "mevid", "--like", str(annotation), "--out", str(out),
                                      "--frame-size", "32x16"])
    assert result.exit_code == 0, result.output
    assert structure(out) == structure(mevid)
    half = tmp_path / "half"
    assert CliRunner().invoke(cli, ["synth", "--layout", "mevid", "--like", str(annotation), "--out", str(half),
                                    "--frame-size", "32x16", "--fraction", "0.5"]).exit_code == 0
    kept = structure(half)
    whole = structure(mevid)
    pids = {key[1] for key in kept}
    assert 0 < len(pids) < len({key[1] for key in whole})
    assert kept == Counter({key: n for key, n in whole.items() if key[1] in pids})  # whole persons kept
