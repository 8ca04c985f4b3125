"""Bad input through the command lines: a one-line error naming the file or flag, or a reported skip.

Every case runs ``flowprep`` or ``reid`` exactly as the installed scripts do (``run_cli``): an
exception the command line does not turn into its one-line error fails the test with its traceback.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import h5py
import numpy as np
import pytest
import scipy.io
import torch

from flowprep.cli import main as flowprep_main
from flowprep.datasets import load_tracklets
from flowprep.store.verify import verify
from flowprep.store import open_store
from flowprep.synth import write_dataset
from reid.cli import main as reid_main
from reid.engine.checkpoint import save_checkpoint

from .conftest import EXTRACT_FLAGS, TRAIN_FLAGS, assert_one_line_error, run_cli


def extract(dataset: str, root: Path, out: Path, *extra: str):
    args = ["extract", "--dataset", dataset, "--root", root, "--out", out, *EXTRACT_FLAGS, *extra]
    return run_cli(flowprep_main, args)


@pytest.fixture
def mars(mars_root, tmp_path) -> Path:
    """A private copy of the synthetic MARS, free to damage."""
    return Path(shutil.copytree(mars_root, tmp_path / "mars"))


# ------------------------------------------------------------------ dataset layout and metadata

def remove(path: Path) -> None:
    shutil.rmtree(path) if path.is_dir() else path.unlink()


def savemat(path: Path, contents: dict) -> None:
    scipy.io.savemat(path, contents)


def replace_line(path: Path, number: int, text: str) -> None:
    lines = path.read_text().splitlines()
    lines[number - 1] = text
    path.write_text("\n".join(lines) + "\n")


INFO = Path("info")
BAD_MARS = {  # case -> (damage done to the dataset root, the file it must name, words of the error)
    "missing root": (lambda root: remove(root), "", "dataset root not found"),
    "missing query_IDX.mat": (lambda root: remove(root / INFO / "query_IDX.mat"), INFO / "query_IDX.mat",
                              "metadata file not found"),
    "missing name list": (lambda root: remove(root / INFO / "train_name.txt"), INFO / "train_name.txt",
                          "metadata file not found"),
    "missing bbox_test": (lambda root: remove(root / "bbox_test"), "bbox_test", "directory not found"),
    ".mat wrong variable": (lambda root: savemat(root / INFO / "tracks_train_info.mat", {"tracks": np.ones((2, 4))}),
                            INFO / "tracks_train_info.mat", "variable 'track_train_info' not found"),
    ".mat wrong shape": (lambda root: savemat(root / INFO / "tracks_test_info.mat",
                                              {"track_test_info": np.ones((3, 3))}),
                         INFO / "tracks_test_info.mat", "has shape (3, 3)"),
    ".mat not integers": (lambda root: savemat(root / INFO / "tracks_train_info.mat",
                                               {"track_train_info": np.array([[1.5, 2, 1, 1]])}),
                          INFO / "tracks_train_info.mat", "non-integer"),
    ".mat rows outside the name list": (lambda root: savemat(root / INFO / "tracks_train_info.mat",
                                                             {"track_train_info": np.array([[1, 99999, 1, 1]])}),
                                        INFO / "tracks_train_info.mat", "outside train_name.txt"),
    "query_IDX not a vector": (lambda root: savemat(root / INFO / "query_IDX.mat", {"query_IDX": np.ones((2, 2))}),
                               INFO / "query_IDX.mat", "expected a vector"),
    "query_IDX out of range": (lambda root: savemat(root / INFO / "query_IDX.mat", {"query_IDX": np.array([[999]])}),
                               INFO / "query_IDX.mat", "outside the"),
    ".mat not a MATLAB file": (lambda root: (root / INFO / "query_IDX.mat").write_bytes(b"\x00garbage" * 64),
                               INFO / "query_IDX.mat", "unreadable MATLAB file"),
    "name list not text": (lambda root: (root / INFO / "test_name.txt").write_bytes(b"\xff\xfe\x00\x81" * 32),
                           INFO / "test_name.txt", "cannot read name list"),
    "name not a MARS name": (lambda root: replace_line(root / INFO / "train_name.txt", 2, "frame_0001.jpg"),
                             f"{INFO / 'train_name.txt'}:2", "not a MARS frame name"),
}


@pytest.mark.parametrize("case", list(BAD_MARS))
def test_bad_mars_layout_is_one_line_naming_the_file(case, mars, tmp_path):
    damage, culprit, words = BAD_MARS[case]
    damage(mars)
    result = extract("mars", mars, tmp_path / "out.h5")
    assert_one_line_error(result, mars / culprit if culprit else mars, words)
    assert not (tmp_path / "out.h5").exists()


def test_bad_ilidsvid_split_matrix_is_one_line_naming_the_file(tmp_path):
    root = tmp_path / "ilids"
    write_dataset("ilidsvid", root, identities=2, cameras=2, seed=1)
    splits = root / "train-test people splits" / "train_test_splits_ilidsvid.mat"
    savemat(splits, {"ls_set": np.ones((4, 10))})
    assert_one_line_error(extract("ilidsvid", root, tmp_path / "out.h5"), splits, "has shape (4, 10)")


# ------------------------------------------------------------------ frame files

def frames_of(root: Path, role: str, count: int, dataset: str = "mars") -> list:
    """``count`` tracklets of ``role`` with at least 3 frames, in the adapter's order."""
    return [t for t in load_tracklets(dataset, root) if t.role == role and len(t.frames) >= 3][:count]


def test_unusable_frames_are_skipped_and_reported_other_oddities_are_read(mars, tmp_path):
    damaged, unreadable, png_named_jpg, mixed_sizes = frames_of(mars, "train", 4)
    missing = frames_of(mars, "gallery", 1)[0]
    damaged.frames[0].write_bytes(b"")
    damaged.frames[1].write_bytes(damaged.frames[1].read_bytes()[:40])
    damaged.frames[2].write_bytes(b"this is not an image at all")
    for frame in unreadable.frames:  # a 0-frame tracklet: every frame unusable
        frame.write_bytes(b"")
    image = cv2.imread(str(png_named_jpg.frames[0]))
    png_named_jpg.frames[0].write_bytes(cv2.imencode(".png", image)[1].tobytes())
    for frame, size in zip(mixed_sizes.frames, [(37, 100), (150, 300), (64, 32)]):
        cv2.imwrite(str(frame), cv2.resize(cv2.imread(str(frame)), size))
    missing.frames[1].unlink()
    (missing.frames[0].parent / "notes.txt").write_text("a stray file in a tracklet folder")

    out = tmp_path / "mars.h5"
    result = extract("mars", mars, out)
    assert result.code == 0, result.err
    assert f"skipped {4 + len(unreadable.frames)} frames, 1 tracklets" in result.out
    for tracklet, frame, reason in ((damaged, 0, "empty file"), (damaged, 1, "not a decodable image"),
                                    (damaged, 2, "not a decodable image"), (missing, 1, "unreadable"),
                                    (unreadable, 0, "empty file")):
        assert f"skipped frame {tracklet.name}/{tracklet.frames[frame].name}: {reason}" in result.out
    assert f"skipped tracklet {unreadable.name}: no readable frame" in result.out
    verify(out)
    with open_store(out) as reader:
        names = list(reader.tracklets.name)
        counts = dict(zip(names, reader.tracklets.frame_count.tolist()))
        assert unreadable.name not in names
        assert (unreadable.name, "no readable frame") in reader.meta.skipped_tracklets
        assert counts[damaged.name] == len(damaged.frames) - 3
        assert counts[missing.name] == len(missing.frames) - 1
        assert counts[png_named_jpg.name] == len(png_named_jpg.frames)
        assert counts[mixed_sizes.name] == len(mixed_sizes.frames)
        images, flows = reader.read_clip(names.index(mixed_sizes.name), range(3))
    assert images.shape == (3, 64, 32, 3) and flows.shape == (3, 2, 64, 32)


def test_duke_one_frame_tracklet_stray_text_and_empty_tracklet_folder(tmp_path):
    root = tmp_path / "duke"
    write_dataset("duke", root, identities=2, cameras=2, seed=1)
    single, stray = frames_of(root, "gallery", 2, "duke")
    for frame in single.frames[1:]:
        frame.unlink()
    (stray.frames[0].parent / "readme.txt").write_text("not a frame")
    out = tmp_path / "duke.h5"
    result = extract("duke", root, out)
    assert result.code == 0, result.err
    assert "skipped 0 frames, 0 tracklets" in result.out
    with open_store(out) as reader:
        counts = dict(zip(reader.tracklets.name, reader.tracklets.frame_count.tolist()))
        images, flows = reader.read_clip(list(reader.tracklets.name).index(single.name), [0, 0, 0])
    assert counts[single.name] == 1 and counts[stray.name] == len(stray.frames)
    assert images.shape == (3, 64, 32, 3) and not flows.any()  # one frame: nothing moved

    folder = single.frames[0].parent
    single.frames[0].unlink()
    assert_one_line_error(extract("duke", root, tmp_path / "empty.h5"), folder, "has no frames")


# ------------------------------------------------------------------ damaged stores

def store_with(tiny_store: Path, folder: Path, damage: str) -> Path:
    path = folder / f"{damage.replace(' ', '-')}.h5"
    if damage == "no such file":
        return path
    shutil.copy(tiny_store, path)
    if damage == "truncated":
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 3])
    else:
        with h5py.File(path, "r+") as f:
            if damage == "schema version 99":
                f.attrs["schema_version"] = 99
            else:
                del f["tracklets/pid"]
    return path


STORE_DAMAGE = {"schema version 99": "schema version 99 is not supported",
                "missing dataset": "missing or unreadable dataset",
                "truncated": "not a readable HDF5 store",
                "no such file": "no such store"}


@pytest.mark.parametrize("damage", list(STORE_DAMAGE))
def test_damaged_store_is_one_line_for_every_command(damage, tiny_store, tiny_checkpoint, tmp_path):
    store = store_with(tiny_store, tmp_path, damage)
    commands = [
        (flowprep_main, ["inspect", store]),
        (flowprep_main, ["verify", store]),
        (reid_main, ["train", "--store", store, "--out", tmp_path / "run", "--epochs", "1", *TRAIN_FLAGS]),
        (reid_main, ["evaluate", "--store", store, "--checkpoint", tiny_checkpoint, "--device", "cpu",
                     "--workers", "0"]),
    ]
    for main, args in commands:
        assert_one_line_error(run_cli(main, args), store, STORE_DAMAGE[damage])
    assert not (tmp_path / "run").exists()


# ------------------------------------------------------------------ checkpoints of another model

def evaluate(store: Path, checkpoint: Path):
    return run_cli(reid_main, ["evaluate", "--store", store, "--checkpoint", checkpoint, "--device", "cpu",
                               "--workers", "0"])


def altered_checkpoint(source: Path, path: Path, **config) -> Path:
    payload = torch.load(source, weights_only=True)
    payload["model_config"] = {**payload["model_config"], **config}
    save_checkpoint(path, {k: v for k, v in payload.items() if k != "format"})
    return path


@pytest.mark.parametrize("config, words", [
    ({"feature_dim": 128}, "weights do not fit a mutual-attention/resnet_tiny model (size mismatch"),
    ({"backbone": "resnet50"}, "weights do not fit a mutual-attention/resnet50 model"),
    ({"model": "baseline"}, "weights do not fit a baseline/resnet_tiny model"),
])
def test_checkpoint_whose_weights_do_not_fit_its_config(config, words, tiny_store, tiny_checkpoint, tmp_path):
    checkpoint = altered_checkpoint(tiny_checkpoint, tmp_path / "other.pt", **config)
    assert_one_line_error(evaluate(tiny_store, checkpoint), checkpoint, words)


def test_files_that_are_not_reid_checkpoints(tiny_store, tiny_checkpoint, tmp_path):
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(tiny_checkpoint.read_bytes()[:5000])
    bare = tmp_path / "state_dict.pt"
    torch.save(torch.load(tiny_checkpoint, weights_only=True)["model"], bare)
    no_config = tmp_path / "no_config.pt"
    save_checkpoint(no_config, {"model": {}})
    for checkpoint, words in ((truncated, "truncated or damaged"), (bare, "not a reid checkpoint"),
                              (no_config, "has no model config"), (tmp_path / "none.pt", "no such checkpoint")):
        assert_one_line_error(evaluate(tiny_store, checkpoint), checkpoint, words)


@pytest.mark.parametrize("flags, words", [
    (["--feature-dim", "32"], "differ from it: --feature-dim 64 -> 32"),
    (["--model", "baseline"], "differ from it: --model mutual-attention -> baseline"),
])
def test_resume_with_other_model_settings_is_refused_and_leaves_the_run(flags, words, tiny_store, tiny_checkpoint,
                                                                         tmp_path):
    run = Path(shutil.copytree(tiny_checkpoint.parent, tmp_path / "run"))
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    args = ["train", "--store", tiny_store, "--out", run, "--epochs", "3", "--resume", *TRAIN_FLAGS, *flags]
    assert_one_line_error(run_cli(reid_main, args), run / "last.pt", words)
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before


# ------------------------------------------------------------------ flags

@pytest.mark.parametrize("shard", ["3/3", "0/0", "-1/2", "x", "1/2/3"])
def test_shard_out_of_range(shard, mars, tmp_path):
    assert_one_line_error(extract("mars", mars, tmp_path / "out.h5", "--shard", shard), "--shard", shard)


def test_conflicting_flags(mars, tiny_store, tiny_checkpoint, tmp_path):
    out = tmp_path / "out.h5"
    assert_one_line_error(extract("mars", mars, out, "--resume", "--overwrite"), "--resume and --overwrite contradict")
    assert not out.exists() and not out.with_name(out.name + ".parts").exists()
    result = run_cli(reid_main, ["evaluate", "--store", tiny_store, "--checkpoint", tiny_checkpoint,
                                 "--split", "1", "--all-splits", "--device", "cpu"])
    assert_one_line_error(result, "--split and --all-splits contradict")



def test_a_file_name_with_a_line_break_still_gives_one_line(tmp_path):
    store = tmp_path / "two\nlines.h5"
    line = assert_one_line_error(run_cli(flowprep_main, ["verify", store]), "two lines.h5", "no such store")
    assert line.startswith("flowprep: error:")
