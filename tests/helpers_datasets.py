"""Small hand-built copies of the official dataset layouts (empty image files suffice), and the checks
the adapter tests share."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import scipy.io

from flowprep.errors import DatasetError


def touch(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")


@contextmanager
def raises_one_line(fragment: str):
    """Expect a DatasetError whose message is one line containing ``fragment``."""
    with pytest.raises(DatasetError) as info:
        yield info
    message = str(info.value)
    assert fragment in message and "\n" not in message, message


def by_name(tracklets):
    return {tracklet.name: tracklet for tracklet in tracklets}


# (pid text, camid, track, frame numbers in the order they are listed)
MARS_TRAIN = [("0001", 1, 1, [3, 1, 2]), ("00-1", 2, 1, [1, 2]), ("0001", 2, 1, [10, 9])]
MARS_TEST = [
    ("0002", 1, 1, [2, 1]),  # row 1: query
    ("0002", 2, 1, [1]),  # row 2: gallery
    ("0000", 3, 1, [1, 2, 3]),  # row 3: distractor, named by query_IDX but gallery only
    ("00-1", 4, 1, [1]),  # row 4: junk, named by query_IDX, dropped
    ("0003", 2, 1, [1, 2]),  # row 5: query
    ("0003", 5, 2, [4, 2]),  # row 6: gallery
]
MARS_QUERY_IDX = [1, 3, 4, 5]


def write_mars(root: Path, train=MARS_TRAIN, test=MARS_TEST, query_idx=MARS_QUERY_IDX) -> None:
    info = root / "info"
    info.mkdir(parents=True)
    for subset, tracks in (("train", train), ("test", test)):
        names, rows = [], []
        for pid_text, camid, track, frames in tracks:
            listed = [f"{pid_text}C{camid}T{track:04d}F{frame:03d}.jpg" for frame in frames]
            for name in listed:
                touch(root / f"bbox_{subset}" / pid_text / name)
            pid = -1 if pid_text == "00-1" else int(pid_text)
            rows.append([len(names) + 1, len(names) + len(listed), pid, camid])
            names += listed
        (info / f"{subset}_name.txt").write_text("\n".join(names) + "\n")
        scipy.io.savemat(info / f"tracks_{subset}_info.mat", {f"track_{subset}_info": np.array(rows, dtype=float)})
    scipy.io.savemat(info / "query_IDX.mat", {"query_IDX": np.array([query_idx], dtype=float)})


def assert_mat_file_refused(path: Path, contents: dict, dataset: str, root: Path, message: str) -> None:
    """Writing ``contents`` to the .mat file ``path`` makes reading ``dataset`` a one-line error naming the file."""
    from flowprep.datasets import load_tracklets

    scipy.io.savemat(path, contents)
    with raises_one_line(message) as info:
        load_tracklets(dataset, root)
    assert str(path) in str(info.value)


def synthetic_root(tmp_path_factory, layout: str, seed: int) -> Path:
    """A small synthetic dataset (6 identities, 4 cameras) in ``layout``'s official layout."""
    from flowprep.synth import write_dataset

    root = tmp_path_factory.mktemp(layout) / layout
    write_dataset(layout, root, identities=6, cameras=4, seed=seed)
    return root
