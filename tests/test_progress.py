"""Progress that suits batch logs: bars on a terminal, timed plain lines (never a carriage return) elsewhere,
nothing with --quiet; checked on the real command lines with stderr going to a pipe, as under SLURM or nohup."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import cv2
import pytest

from flowprep.cli import main as flowprep_main
from flowprep.store import open_store
from flowreid.progress import ENV_SECONDS, LogLines, duration, log_interval, progress_display
from helpers_store import FAST_DIS, shared_tiny_run
from reid.cli import main as reid_main
from reliability.conftest import TRAIN_FLAGS, run_cli

# a plain line: "<what>: <percent>% <done>/<total> <unit>, <rate> <unit>/s, <time> left"
PLAIN_LINE = re.compile(r"^[\w /]+: +\d+% \d+/\d+ \w+, [\d.e+]+ \w+/s, [\dhmins ]+ left")
LINE_EACH_STEP = {**os.environ, ENV_SECONDS: "0", "OMP_NUM_THREADS": "1"}


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> tuple[Path, Path]:
    return shared_tiny_run(tmp_path_factory)


def query_folder(store: Path, folder: Path) -> Path:
    """The frames of the store's last tracklet (a gallery one) as image files."""
    folder.mkdir()
    with open_store(store) as reader:
        last = len(reader.tracklets) - 1
        frames, _ = reader.read_clip(last, range(int(reader.tracklets.frame_count[last])))
    for k, frame in enumerate(frames):
        cv2.imwrite(str(folder / f"{k:04d}.png"), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    return folder


def command_line(name: str, run: tuple[Path, Path], mars_root: Path, tmp_path: Path) -> list[str]:
    store, checkpoint = run
    python = [sys.executable, "-m", "flowprep.cli" if name == "extract" else "reid.cli", name]
    if name == "extract":
        return [*python, "--dataset", "mars", "--root", str(mars_root), "--out", str(tmp_path / "m.h5"),
                "--workers", "0", *(flag for flag in FAST_DIS if flag != "--quiet")]
    if name == "train":
        flags = [flag for flag in TRAIN_FLAGS if flag != "--quiet"]
        return [*python, "--store", str(store), "--out", str(tmp_path / "run"), "--epochs", "1", *flags]
    common = ["--checkpoint", str(checkpoint), "--device", "cpu", "--workers", "0"]
    if name == "search":
        return [*python, "--gallery", str(store), *common, "--query", str(query_folder(store, tmp_path / "q"))]
    return [*python, "--store", str(store), *common]


@pytest.mark.parametrize("name, what", [("extract", "extract"), ("train", "epoch 1/1"), ("search", "gallery features"),
                                        ("evaluate", "features")])
def test_a_log_gets_plain_progress_lines_and_no_carriage_return(name, what, run, mars_root, tmp_path):
    args = command_line(name, run, mars_root, tmp_path)
    result = subprocess.run(args, env=LINE_EACH_STEP, capture_output=True, timeout=300)  # bytes: text reads \r as \n
    err = result.stderr.decode()
    assert result.returncode == 0, err
    assert b"\r" not in result.stderr and b"\x1b" not in result.stderr, err
    lines = [line for line in err.splitlines() if line.startswith(f"{what}: ")]
    assert any(PLAIN_LINE.match(line) for line in lines), err
    assert lines[-1].startswith(f"{what}: done, "), lines  # a step that reported says when it ended


@pytest.mark.parametrize("name, interval, flag", [(name, "0", "--quiet") for name in ("extract", "train", "search",
                                                                                   "evaluate")]
                         + [("evaluate", "", None)])
def test_quiet_and_short_steps_at_the_default_interval_print_nothing(name, interval, flag, run, mars_root, tmp_path,
                                                                    monkeypatch):
    monkeypatch.setenv(ENV_SECONDS, interval)
    args = command_line(name, run, mars_root, tmp_path)[3:]  # the command name on
    result = run_cli(flowprep_main if name == "extract" else reid_main, [*args, *([flag] if flag else [])])
    assert result.code == 0, result.err
    assert result.err == "", result.err


def test_the_api_extracts_with_progress_in_a_log(run, monkeypatch, capsys):
    from reid import FeatureExtractor

    store, checkpoint = run
    monkeypatch.setenv(ENV_SECONDS, "0")
    features = FeatureExtractor(checkpoint, "cpu").store(store, role="gallery", workers=0)
    err = capsys.readouterr().err
    assert "\r" not in err and any(PLAIN_LINE.match(line) for line in err.splitlines()), err
    assert err.splitlines()[-1].startswith("features: done, ")
    silent = FeatureExtractor(checkpoint, "cpu").store(store, role="gallery", workers=0, progress=False)
    assert capsys.readouterr().err == "" and silent.shape == features.shape


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_a_bar_a_pipe_gets_lines_quiet_gets_nothing(monkeypatch):
    monkeypatch.setenv(ENV_SECONDS, "0")
    shown = {}
    for kind, stream, enabled in (("terminal", Terminal(), True), ("pipe", io.StringIO(), True),
                                  ("quiet", Terminal(), False)):
        with progress_display(4, "step", "batch", stream=stream, enabled=enabled) as bar:
            for _ in range(4):
                bar.update()
        shown[kind] = stream.getvalue()
    assert "\r" in shown["terminal"] and "4/4" in shown["terminal"]
    assert "\r" not in shown["pipe"] and shown["pipe"].splitlines()[0].startswith("step:  25% 1/4 batch, ")
    assert shown["quiet"] == ""


def test_lines_come_at_the_interval_with_rate_time_left_and_postfix(monkeypatch):
    clock = iter([0.0, 10.0, 61.0, 70.0, 130.0, 130.0])
    monkeypatch.setattr("flowreid.progress.time.monotonic", lambda: next(clock))
    stream = io.StringIO()
    lines = LogLines(100, "epoch 1/3", "batch", stream, every_seconds=60)  # starts at 0 s
    lines.set_postfix_str("loss=0.5")
    lines.update(10)  # 10 s: too soon for a line
    lines.update(50)  # 61 s: 60 done at ~0.98/s, 40 left
    lines.update(10)  # 70 s: 9 s after the last line
    lines.update(30)  # 130 s: done
    lines.close()
    assert stream.getvalue().splitlines() == [
        "epoch 1/3:  60% 60/100 batch, 0.984 batch/s, 41 s left; loss=0.5",
        "epoch 1/3: 100% 100/100 batch, 0.769 batch/s, 0 s left; loss=0.5",
        "epoch 1/3: done, 100 batch in 2 min 10 s (0.769 batch/s)",
    ]


@pytest.mark.parametrize("text, seconds", [("", 60.0), ("0", 0.0), ("5.5", 5.5), ("soon", 60.0), ("-1", 60.0),
                                           ("nan", 60.0)])
def test_the_interval_comes_from_the_environment(monkeypatch, text, seconds):
    monkeypatch.setenv(ENV_SECONDS, text)
    assert log_interval() == seconds


@pytest.mark.parametrize("seconds, shown", [(4.4, "4 s"), (65, "1 min 05 s"), (7322, "2 h 02 min")])
def test_durations_read_as_a_log_reader_plans(seconds, shown):
    assert duration(seconds) == shown
