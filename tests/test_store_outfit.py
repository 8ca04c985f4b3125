"""The optional /tracklets/outfit column: written by this code, absent from older stores, which still read."""

from __future__ import annotations

import h5py
import numpy as np

from flowprep.store import concatenate_stores, open_store
from helpers_store import write_tiny_store


def test_a_store_without_the_outfit_column_reads_as_unknown_outfits(tmp_path) -> None:
    path = write_tiny_store(tmp_path / "old.h5", identities=3)
    with h5py.File(path, "r+") as f:
        assert (f["tracklets/outfit"][:] == -1).all()
        del f["tracklets/outfit"]  # as every store written before issue 24
    with open_store(path) as reader:
        assert (reader.tracklets.outfit == -1).all() and not reader.tracklets.has_outfits()
        assert len(reader.tracklets.outfit) == len(reader.tracklets)
    joined = tmp_path / "joined.h5"
    concatenate_stores([path], joined)  # and is carried on, as unknown, by a merge
    with h5py.File(joined, "r") as f:
        np.testing.assert_array_equal(f["tracklets/outfit"][:], np.full(len(f["tracklets/name"]), -1))
