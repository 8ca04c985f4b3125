"""What every dataset adapter shares: the registry, the missing-root error, options that cannot apply."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowprep.datasets import DATASETS, load_tracklets
from helpers_datasets import raises_one_line, write_mars


@pytest.fixture
def mars(tmp_path: Path) -> Path:
    write_mars(tmp_path / "mars")
    return tmp_path / "mars"


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_every_adapter_names_a_missing_root_and_its_layout(tmp_path: Path, name: str) -> None:
    root = tmp_path / "nowhere"
    with raises_one_line(f"{root}: dataset root not found") as info:
        load_tracklets(name, root)
    assert DATASETS[name].layout in str(info.value)


def test_registry_names_and_unknown_dataset() -> None:
    assert set(DATASETS) == {"mars", "duke", "ilidsvid", "prid", "mot", "lsvid", "mevid"}
    with raises_one_line("unknown dataset 'market'; known: duke, ilidsvid, lsvid, mars, mevid, mot, prid"):
        load_tracklets("market", Path("."))


def test_options_that_cannot_apply_are_refused(tmp_path: Path, mars: Path) -> None:
    with raises_one_line("split must be 0..9, got 10"):
        load_tracklets("ilidsvid", tmp_path, split=10)
    with raises_one_line("a splits file does not apply"):
        load_tracklets("mars", mars, split_file=tmp_path / "s.json")
    assert load_tracklets("mars", mars, split=3) == load_tracklets("mars", mars)  # fixed partition: split ignored
