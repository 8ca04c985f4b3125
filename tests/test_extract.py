"""flowprep extract end to end on synthetic layouts: content, resume after kill -9, shards, bad frames."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from flowprep.cli import cli
from flowprep.errors import FlowprepError
from flowprep.extract import ExtractOptions, Shard, extract, make_chunks
from flowprep.flow import create_estimator, flows_for_tracklets, tracklet_flow
from flowprep.store import SCHEMA_VERSION, open_store
from flowprep.synth import write_dataset
from storetools import store_content, store_order

SIZE = ["--size", "64x32", "--flow", "dis", "--flow-param", "preset=ultrafast", "--quiet"]


@pytest.fixture(scope="module")
def reference_store(mars_root, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ref") / "mars.h5"
    run(["extract", "--dataset", "mars", "--root", str(mars_root), "--out", str(out), "--workers", "1", *SIZE])
    return out


def run(args: list[str]) -> str:
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_extract_then_inspect_verify_show_on_mars(mars_root, reference_store, tmp_path):
    info = json.loads(run(["inspect", str(reference_store), "--json"]))
    assert info["schema_version"] == SCHEMA_VERSION and info["dataset"] == "mars" and info["flow"] == "dis"
    from flowprep.datasets import load_tracklets

    tracklets = load_tracklets("mars", mars_root)
    for role in ("train", "query", "gallery"):
        mine = [t for t in tracklets if t.role == role]
        assert info["roles"][role]["tracklets"] == len(mine)
        assert info["roles"][role]["frames"] == sum(len(t.frames) for t in mine)
    assert "ok" in run(["verify", str(reference_store)])
    run(["show", str(reference_store), "--tracklet", "2", "--out", str(tmp_path / "clip.png")])
    import cv2

    picture = cv2.imread(str(tmp_path / "clip.png"))
    # 64x32 frames enlarged 2x to 128 px tall; a frame column per drawn frame, plus the colour key (64 px square)
    assert picture.shape[0] == 2 * 128 and (picture.shape[1] - 128) % 64 == 0 and picture.shape[1] > 128


def test_inspect_json_holds_what_the_text_shows_and_calls_roles_roles(reference_store):
    info = json.loads(run(["inspect", str(reference_store), "--json"]))
    with open_store(reference_store) as reader:
        meta = reader.meta
    assert {key: info[key] for key in ("split", "size", "flow_params", "flow_codec", "flow_step", "created")} == {
        "split": meta.split, "size": [64, 32], "flow_params": {"preset": "ultrafast"}, "flow_codec": "jpeg",
        "flow_step": 0.25, "created": meta.created}
    assert "splits" not in info and set(info["roles"]) == {"train", "query", "gallery"}
    text = run(["inspect", str(reference_store)])
    assert f"created {meta.created}" in text and "size 64x32" in text and "jpeg (step 0.25 px)" in text


def test_store_flow_is_the_estimators_flow(mars_root, reference_store):
    """Frame order and flow alignment: stored flow t is the flow from frame t-1 to frame t."""
    with open_store(reference_store) as reader:
        index = int(np.argmax(reader.tracklets.frame_count))
        count = int(reader.tracklets.frame_count[index])
        images, flows = reader.read_clip(index, range(count))
        names = reader.frame_names(index)
    numbers = [int(n.split("F")[-1].split(".")[0]) for n in names]
    assert numbers == sorted(numbers)
    estimator = create_estimator("dis", preset="ultrafast")
    import cv2

    bgr = np.stack([cv2.cvtColor(i, cv2.COLOR_RGB2BGR) for i in images])
    expected = tracklet_flow(estimator, bgr)
    # JPEG round trips change pixels a little, so compare the flow's direction, not bytes
    assert np.corrcoef(expected[1:].ravel(), flows[1:].ravel())[0, 1] > 0.8


def test_png16_flow_codec_stores_the_same_flow_losslessly(mars_root, reference_store, tmp_path):
    out = tmp_path / "png16.h5"
    run(["extract", "--dataset", "mars", "--root", str(mars_root), "--out", str(out), "--workers", "1",
         "--flow-codec", "png16", *SIZE])
    assert "png16 (step 0.125 px)" in run(["inspect", str(out)])
    with open_store(reference_store) as jpeg, open_store(out) as png:
        assert (jpeg.meta.flow_codec, png.meta.flow_codec) == ("jpeg", "png16")
        index = int(np.argmax(png.tracklets.frame_count))
        frames = range(int(png.tracklets.frame_count[index]))
        (jpeg_images, jpeg_flows), (png_images, png_flows) = jpeg.read_clip(index, frames), png.read_clip(index, frames)
    np.testing.assert_array_equal(jpeg_images, png_images)
    in_range = np.abs(png_flows) < 31
    assert in_range.mean() > 0.9
    assert np.abs(jpeg_flows - png_flows)[in_range].mean() < 0.15  # the two steps alone differ by 1/8 px


def test_jpeg_frames_of_the_stored_size_are_kept_byte_for_byte(tmp_path):
    root, out = tmp_path / "mars", tmp_path / "full.h5"
    write_dataset("mars", root, identities=2, cameras=2, seed=3)  # MARS frames: 256x128 JPEG files
    run(["extract", "--dataset", "mars", "--root", str(root), "--out", str(out), "--workers", "1",
         "--size", "256x128", "--flow", "dis", "--flow-param", "preset=ultrafast", "--quiet"])
    small = tmp_path / "small.h5"
    run(["extract", "--dataset", "mars", "--root", str(root), "--out", str(small), "--workers", "1", *SIZE])
    with open_store(out) as reader, open_store(small) as resized:
        tracklet = reader.tracklets.name[0]
        (image, _), = reader.read_encoded(0, [0])
        source = next(root.rglob(reader.frame_names(0)[0]))
        assert bytes(image) == source.read_bytes()
        (small_image, _), = resized.read_encoded(resized.tracklet_index(tracklet), [0])
        assert bytes(small_image) != source.read_bytes()  # resized frames are encoded afresh


def test_pairs_pooled_across_tracklets_match_one_by_one():
    rng = np.random.default_rng(0)
    tracklets = [rng.integers(0, 255, (n, 24, 16, 3), dtype=np.uint8) for n in (1, 3, 0, 6)]
    estimator = create_estimator("dis", preset="ultrafast")
    pooled = flows_for_tracklets(estimator, tracklets)
    for frames, flow in zip(tracklets, pooled):
        np.testing.assert_array_equal(flow, tracklet_flow(estimator, frames))
        assert flow.shape == (len(frames), 2, 24, 16)


def test_ilidsvid_extract(tmp_path):
    root = tmp_path / "ilids"
    write_dataset("ilidsvid", root, identities=4, cameras=2, seed=2)
    out = tmp_path / "ilids.h5"
    run(["extract", "--dataset", "ilidsvid", "--root", str(root), "--out", str(out), "--split", "3", *SIZE])
    info = json.loads(run(["inspect", str(out), "--json"]))
    assert info["roles"]["query"]["tracklets"] == info["roles"]["gallery"]["tracklets"] == 2
    assert info["roles"]["train"]["tracklets"] == 4
    assert "ok" in run(["verify", str(out)])
    with open_store(out) as reader:
        assert reader.meta.split == 3


def test_existing_store_is_refused_without_a_flag(mars_root, reference_store):
    result = CliRunner().invoke(cli, ["extract", "--dataset", "mars", "--root", str(mars_root), "--out",
                                      str(reference_store), *SIZE])
    assert result.exit_code != 0
    assert "pass --overwrite" in str(result.exception) + result.output


def test_resume_on_a_finished_store_succeeds_without_touching_it(mars_root, reference_store):
    """A requeued cluster job finds its store finished: success, the file unchanged."""
    before = (reference_store.stat().st_mtime_ns, reference_store.read_bytes())
    output = run(["extract", "--dataset", "mars", "--root", str(mars_root), "--out", str(reference_store),
                  "--workers", "1", "--resume", *SIZE])
    assert "already complete" in output and "nothing to do" in output
    assert (reference_store.stat().st_mtime_ns, reference_store.read_bytes()) == before
    journal = reference_store.with_name(reference_store.name + ".parts")
    journal.mkdir()  # killed after the last part became the store, before the empty journal was removed
    output = run(["extract", "--dataset", "mars", "--root", str(mars_root), "--out", str(reference_store),
                  "--workers", "1", "--resume", *SIZE])
    assert "already complete" in output and not journal.exists()
    other = CliRunner().invoke(cli, ["extract", "--dataset", "mars", "--root", str(mars_root), "--out",
                                     str(reference_store), "--resume", *SIZE[2:], "--size", "32x16"])
    assert other.exit_code != 0 and "finished with other settings" in str(other.exception) + other.output


def test_shards_merge_to_the_same_store(mars_root, reference_store, tmp_path):
    shards = []
    for i in range(3):
        shard = tmp_path / f"s{i}.h5"
        run(["extract", "--dataset", "mars", "--root", str(mars_root), "--out", str(shard), "--shard", f"{i}/3", *SIZE])
        shards.append(shard)
    sizes = [len(store_order(s)) for s in shards]
    assert sum(sizes) == len(store_order(reference_store)) and min(sizes) > 0
    run(["merge", str(tmp_path / "merged.h5"), *map(str, reversed(shards))])
    assert store_content(tmp_path / "merged.h5") == store_content(reference_store)


def test_shard_selection_is_a_partition():
    from flowprep.datasets.base import Tracklet

    tracklets = [Tracklet(f"t{i}", 1, 1, "train", ()) for i in range(50)]
    picked = [[t.name for t in tracklets if Shard(i, 4).selects(t)] for i in range(4)]
    assert sorted(sum(picked, [])) == sorted(t.name for t in tracklets)
    with pytest.raises(FlowprepError):
        Shard.parse("4/4")
    with pytest.raises(FlowprepError):
        Shard.parse("a/b")


def test_chunks_keep_whole_tracklets():
    from flowprep.datasets.base import Tracklet

    items = [(i, Tracklet(f"t{i}", 1, 1, "train", tuple(Path(f"{k}.jpg") for k in range(n))))
             for i, n in enumerate([5, 1, 40, 2, 2])]
    chunks = make_chunks(items, 8)
    assert [[i for i, _ in c] for c in chunks] == [[0, 1, 2], [3, 4]]


def test_kill_9_then_resume_gives_the_same_store(mars_root, reference_store, tmp_path):
    out = tmp_path / "killed.h5"
    args = [sys.executable, "-m", "flowprep.cli", "extract", "--dataset", "mars", "--root", str(mars_root),
            "--out", str(out), "--workers", "1", "--flush-every", "0", *SIZE]
    parts = out.with_name(out.name + ".parts")
    process = subprocess.Popen(args)
    deadline = time.monotonic() + 60
    while not list(parts.glob("part-*.h5")) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert not out.exists(), "the store must not exist before the run completes"
    assert list(parts.glob("part-*.h5")), "the run was killed before it flushed any part"
    result = subprocess.run(args + ["--resume"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "already done" in result.stdout
    assert store_content(out) == store_content(reference_store)
    assert not parts.exists()


def test_journal_without_resume_is_refused(mars_root, tmp_path):
    out = tmp_path / "x.h5"
    out.with_name(out.name + ".parts").mkdir()
    opts = ExtractOptions(dataset="mars", root=mars_root, out=out, height=64, width=32)
    with pytest.raises(FlowprepError, match="pass --resume"):
        extract(opts, progress=False)
    with pytest.raises(FlowprepError, match="contradict"):
        extract(ExtractOptions(dataset="mars", root=mars_root, out=out, resume=True, overwrite=True), progress=False)


def test_corrupt_frames_are_skipped_reported_and_recorded(tmp_path):
    root = tmp_path / "mars"
    write_dataset("mars", root, identities=4, cameras=2, seed=3)
    frames = sorted(p for p in (root / "bbox_train").rglob("*.jpg") if p.parent.name != "00-1")  # not junk
    frames[0].write_bytes(b"")  # empty
    frames[3].write_bytes(frames[3].read_bytes()[:40])  # truncated
    frames[5].write_bytes(b"this is not an image at all")
    out = tmp_path / "mars.h5"
    output = run(["extract", "--dataset", "mars", "--root", str(root), "--out", str(out), *SIZE])
    assert "skipped 3 frames" in output
    for frame in (frames[0], frames[3], frames[5]):
        assert frame.name in output
    with open_store(out) as reader:
        recorded = [s for i in range(len(reader.tracklets)) for s in json.loads(reader.tracklets.skipped[i])]
    assert sorted(name for name, _ in recorded) == sorted(f.name for f in (frames[0], frames[3], frames[5]))
    assert "ok" in run(["verify", str(out)])


def test_second_writer_is_refused_while_the_first_holds_the_lock(mars_root, tmp_path):
    from flowprep.parts import RunLock

    out = tmp_path / "busy.h5"
    with RunLock(out):
        with pytest.raises(FlowprepError, match="another flowprep process"):
            extract(ExtractOptions(dataset="mars", root=mars_root, out=out, height=64, width=32), progress=False)
    assert not out.exists()


def test_a_lock_file_removed_under_a_starting_run_is_not_held_twice(tmp_path, monkeypatch):
    """Run 1 finishes and removes its lock file just as run 2 opens it: run 2 must lock the file
    that the path names now, or a third run could create a new lock file and write beside run 2."""
    import fcntl

    from flowprep import parts

    out = tmp_path / "race.h5"
    lock_path = out.with_name(out.name + ".lock")
    real_flock, raced = fcntl.flock, []

    def flock_after_removal(fd, operation):
        if not raced:  # the finishing run unlinks the file between our open and our flock
            raced.append(True)
            lock_path.unlink()
        return real_flock(fd, operation)

    monkeypatch.setattr(parts.fcntl, "flock", flock_after_removal)
    with parts.RunLock(out):
        assert raced and lock_path.exists()
        with pytest.raises(FlowprepError, match="another flowprep process"):
            with parts.RunLock(out):
                pass
