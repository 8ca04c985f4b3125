"""Clip sampling, the identity sampler and joint image/flow augmentation."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from helpers_store import write_tiny_store

from flowprep.store import open_store
from reid.data.augment import ClipAugment, erase, hflip, pad_crop
from reid.data.clips import DenseClips
from reid.data.samplers import IdentityBatchSampler
from reid.data.sampling import dense_clips, random_run


@pytest.mark.parametrize("length", [1, 3, 4, 5, 17])
def test_dense_clips_cover_every_frame_once_apart_from_padding(length):
    clips = dense_clips(length, 4)
    assert all(len(c) == 4 for c in clips)
    real = np.concatenate(clips)[:length]
    assert real.tolist() == list(range(length))
    assert len(clips) == -(-length // 4)
    assert set(np.concatenate(clips).tolist()) == set(range(length))


def test_random_run_is_consecutive_or_repeats_a_short_tracklet():
    rng = np.random.default_rng(0)
    for _ in range(50):
        run = random_run(10, 4, rng)
        assert np.all(np.diff(run) == 1) and 0 <= run[0] <= 6
    assert random_run(3, 7, rng).tolist() == [0, 1, 2, 0, 1, 2, 0]


def test_identity_sampler_gives_p_identities_with_k_clips():
    labels = [i // 5 for i in range(40)] + [8, 9]  # 8 identities of 5 tracklets, two of 1
    sampler = IdentityBatchSampler(labels, identities_per_batch=4, instances=3, seed=1)
    batches = list(sampler)
    assert len(batches) == len(sampler) > 0
    for batch in batches:
        indices = [i for i, epoch in batch]
        assert {epoch for _, epoch in batch} == {0}
        per_label = Counter(labels[i] for i in indices)
        assert len(per_label) == 4 and set(per_label.values()) == {3}
    sampler.set_epoch(1)
    assert [b for b in sampler] != batches  # a new epoch reshuffles
    sampler.set_epoch(0)
    assert list(sampler) == batches  # and the same epoch repeats exactly (resume)


def test_ranks_split_each_global_batch_by_identity():
    labels = [i // 4 for i in range(48)]
    whole = IdentityBatchSampler(labels, 4, 2, seed=3)
    ranks = [IdentityBatchSampler(labels, 4, 2, seed=3, rank=r, world_size=2) for r in range(2)]
    for full, first, second in zip(whole, *ranks):
        assert full == first + second
        assert not {labels[i] for i, _ in first} & {labels[i] for i, _ in second}


def test_sampler_rejects_too_few_identities():
    with pytest.raises(ValueError, match="only 2 identities"):
        IdentityBatchSampler([0, 0, 1, 1], identities_per_batch=4, instances=2)


def clip(t=3, h=8, w=6, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 255, (t, h, w, 3), dtype=np.uint8), rng.normal(0, 2, (t, 2, h, w)).astype(np.float32)


def test_flip_mirrors_both_and_negates_u_only():
    images, flows = clip()
    fi, ff = hflip(images, flows)
    np.testing.assert_array_equal(fi[:, :, 0], images[:, :, -1])
    np.testing.assert_array_equal(ff[:, 0, :, 0], -flows[:, 0, :, -1])
    np.testing.assert_array_equal(ff[:, 1, :, 0], flows[:, 1, :, -1])


def test_crop_moves_images_and_flow_together():
    images, flows = clip()
    # encode each pixel's position in both so the crop offset can be read back
    h, w = images.shape[1:3]
    ramp = (np.arange(h)[:, None] * w + np.arange(w)[None, :]).astype(np.float32)
    images[..., 0] = ramp.astype(np.uint8)
    flows[:, 0] = ramp
    ci, cf = pad_crop(images, flows, pad=2, rng=np.random.default_rng(5))
    inside = cf[:, 0] != 0
    np.testing.assert_array_equal(ci[..., 0][inside], cf[:, 0][inside].astype(np.uint8))


def test_erasing_hits_the_same_region_in_every_frame_and_both_modalities():
    images, flows = clip(h=32, w=16)
    flows += 100  # no zero flow before erasing
    ei, ef = erase(images, flows, np.random.default_rng(2), (0.1, 0.3), (0.5, 2.0))
    erased = ef[:, 0] == 0
    assert erased.any() and (erased == erased[0]).all()
    assert (ef[:, 1][erased] == 0).all()
    changed = (ei != images).any(axis=-1)
    assert not changed[~erased].any()


def test_augment_is_deterministic_for_a_seed():
    images, flows = clip()
    a = ClipAugment()(images, flows, np.random.default_rng(7))
    b = ClipAugment()(images, flows, np.random.default_rng(7))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_dense_clip_dataset_holds_the_dense_clips_of_each_tracklet_in_order(tmp_path):
    store = open_store(write_tiny_store(tmp_path / "tiny.h5"))
    chosen = np.array([3, 0, 5])
    dataset = DenseClips(store, chosen, seq_len=3)
    expected = [(owner, p.tolist()) for owner, t in enumerate(chosen)
                for p in dense_clips(int(store.tracklets.frame_count[t]), 3)]
    assert [(int(o), dataset.starts[i]) for i, o in enumerate(dataset.owners)] == [(o, p[0]) for o, p in expected]
    images, flows, owner = dataset[len(dataset) - 1]
    want_images, _ = store.read_clip(int(chosen[-1]), expected[-1][1])
    assert owner == 2 and images.shape[0] == 3 and np.array_equal(images.numpy().transpose(0, 2, 3, 1), want_images)
