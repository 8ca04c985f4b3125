"""reid search --query on a folder of several tracklets (a MARS person folder), and the query itself in
the gallery: grouped by the dataset's frame names, chosen with --tracklet, never ranked against itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowprep import tracklet_groups
from flowprep.store import open_store
from helpers_store import shared_tiny_run
from reid.cli import main as reid_main
from reid.search_query import query_itself
from reliability.conftest import assert_one_line_error, run_cli

@pytest.fixture(scope="module")
def setting(tmp_path_factory, small_stores) -> dict[str, Path]:
    """The MARS and PRID stores (32x16) with their dataset roots, and the tiny checkpoint."""
    return {**small_stores, "checkpoint": shared_tiny_run(tmp_path_factory)[1]}


def gallery_person_folder(store: Path, root: Path) -> tuple[Path, list[str]]:
    """A bbox_test person folder holding two gallery tracklets or more (and maybe a query), with its
    tracklets' names, gallery ones first."""
    with open_store(store) as reader:
        t = reader.tracklets
        gallery = {str(t.name[k]) for k in t.of_role("gallery")}
    for person in sorted((root / "bbox_test").iterdir()):
        names = list(tracklet_groups(sorted(person.iterdir())))
        if len(set(names) & gallery) >= 2:
            return person, sorted(names, key=lambda name: name not in gallery)
    raise AssertionError("the synthetic MARS has no person folder of two gallery tracklets")


def search(setting, store: str, query: Path, *extra) -> object:
    return run_cli(reid_main, ["search", "--gallery", setting[store], "--checkpoint", setting["checkpoint"],
                               "--query", query, "--device", "cpu", "--workers", "0", "--quiet", *extra])


def ranked_names(lines: list[str]) -> list[str]:
    return [line.split()[-1] for line in lines if line.split() and line.split()[0].isdigit()]


def test_frame_names_group_into_tracklets_by_the_datasets_rules():
    mars = [Path(f"0001/0001C{c}T000{t}F00{f}.jpg") for c, t in ((2, 1), (6, 2)) for f in (1, 2)]
    assert {k: len(v) for k, v in tracklet_groups(mars).items()} == {"0001C2T0001": 2, "0001C6T0002": 2}
    duke = [Path("7/0007_C6_F0001_X1.jpg"), Path("7/0007_C6_F0002_X1.jpg")]
    assert list(tracklet_groups(duke)) == ["0007_C6"]
    ilids = [Path(f"p/cam{c}_person001_0000{f}.png") for c in (1, 2) for f in (1, 2)]
    assert list(tracklet_groups(ilids)) == ["cam1_person001", "cam2_person001"]
    bare = [Path("person_0001/0001.png"), Path("person_0001/0002.png"), Path("person_0001/0001C1T1F1.jpg")]
    assert list(tracklet_groups(bare)) == ["person_0001"]  # no rule reads every name: one tracklet


def test_a_folder_of_several_tracklets_is_refused_listing_them_and_the_flag(setting):
    person, names = gallery_person_folder(setting["mars"], setting["mars_root"])
    line = assert_one_line_error(search(setting, "mars", person), person, f"holds {len(names)} tracklets",
                                 "--tracklet NAME", "--tracklet all")
    assert all(name in line for name in names)


def test_an_unknown_tracklet_is_refused_listing_the_folders(setting):
    person, names = gallery_person_folder(setting["mars"], setting["mars_root"])
    assert_one_line_error(search(setting, "mars", person, "--tracklet", "9999C1T0001"),
                          "no tracklet '9999C1T0001'", names[0])


def test_one_chosen_tracklet_is_searched_without_itself(setting):
    person, names = gallery_person_folder(setting["mars"], setting["mars_root"])
    result = search(setting, "mars", person, "--tracklet", names[0], "--top", "50")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].startswith(f"query {person} tracklet {names[0]}:")
    assert f"left out of the ranking: {names[0]} (the query's own frames)" in lines
    ranked = ranked_names(lines)
    assert names[0] not in ranked and names[1] in ranked


def test_all_searches_each_tracklet_with_a_picture_each(setting, tmp_path):
    person, names = gallery_person_folder(setting["mars"], setting["mars_root"])
    result = search(setting, "mars", person, "--tracklet", "all", "--out", tmp_path / "ranked.png")
    assert result.code == 0, result.err
    headers = [line for line in result.out.splitlines() if line.startswith("query ")]
    assert sorted(h.split(":")[0] for h in headers) == sorted(f"query {person} tracklet {name}" for name in names)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"ranked-{name}.png" for name in names)


def test_the_query_itself_is_found_by_pixels_where_frame_names_repeat(setting):
    """PRID frames are 0001.png... in every tracklet: a longer gallery tracklet holds every query name."""
    with open_store(setting["prid"]) as reader:
        t = reader.tracklets
        gallery = t.of_role("gallery")
        shortest = str(t.name[gallery[t.frame_count[gallery].argmin()]])  # e.g. cam_b_person_0001
        query = setting["prid_root"] / "prid_2011" / "multi_shot" / shortest[:5] / shortest[6:]
        frames = sorted(query.iterdir())
        same_names = [str(t.name[k]) for k in gallery if {f.name for f in frames} <= set(reader.frame_names(k))]
        assert len(same_names) == len(gallery) >= 2  # the case names alone get wrong
        assert [str(t.name[k]) for k in gallery[query_itself(reader, gallery, frames)]] == [shortest]
    result = search(setting, "prid", query, "--top", "50")
    assert result.code == 0, result.err
    assert f"left out of the ranking: {shortest} (the query's own frames)" in result.out
    assert shortest not in ranked_names(result.out.splitlines())
