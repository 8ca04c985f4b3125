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
from reid.data.sampling import TRAIN_SAMPLING, dense_clips, evenly_spaced, random_run, random_subset


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


@pytest.mark.parametrize("name", sorted(TRAIN_SAMPLING))
@pytest.mark.parametrize("length", [1, 3, 4, 9, 60])
def test_every_training_sampling_returns_seq_len_sorted_positions_inside_the_tracklet(name, length):
    rng = np.random.default_rng(length)
    for _ in range(20):
        positions = TRAIN_SAMPLING[name](length, 6, rng)
        assert len(positions) == 6 and positions.min() >= 0 and positions.max() < length
        if name != "run" or length >= 6:  # a run of a short tracklet wraps around (0 1 2 0 1 2)
            assert np.all(np.diff(positions) >= 0)


def test_random_subset_draws_distinct_frames_from_the_whole_tracklet():
    rng = np.random.default_rng(1)
    draws = [random_subset(60, 4, rng) for _ in range(200)]
    assert all(len(set(d.tolist())) == 4 for d in draws)
    assert np.mean([d[-1] - d[0] for d in draws]) > 20  # spread out, unlike a run of 4 (span 3)
    assert len({tuple(d) for d in draws}) > 150  # and not the same few subsets


def test_evenly_spaced_takes_one_frame_from_each_equal_segment():
    rng = np.random.default_rng(2)
    draws = [evenly_spaced(40, 4, rng) for _ in range(100)]
    for positions in draws:
        assert [int(p) // 10 for p in positions] == [0, 1, 2, 3]
        assert len(set(np.diff(positions).tolist())) <= 2  # equal steps, up to rounding
    assert len({d[0] for d in draws}) == 10  # the phase varies over the whole first segment


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


def marked_clip(t=16, h=8, w=6):
    """A clip whose every frame is left-right asymmetric in both images and flow."""
    images = np.broadcast_to(np.arange(w, dtype=np.uint8)[None, None, :, None] * 10, (t, h, w, 3)).copy()
    flows = np.stack([np.broadcast_to(np.arange(w, dtype=np.float32) + 1, (t, h, w))] * 2, axis=1).copy()
    return images, flows


@pytest.mark.parametrize("per_frame", [False, True])
def test_flip_is_drawn_per_clip_or_per_frame_and_shared_by_image_and_flow(per_frame):
    images, flows = marked_clip()
    augment = ClipAugment(flip_p=0.5, pad_fraction=0, erase_p=0, per_frame=per_frame)
    seen = set()
    for seed in range(5):
        out_images, out_flows = augment(images, flows, np.random.default_rng(seed))
        flipped = out_images[:, 0, 0, 0] > out_images[:, 0, -1, 0]  # mirrored frames fall from left to right
        for t in range(len(images)):
            expected_images, expected_flows = hflip(images[t : t + 1], flows[t : t + 1]) if flipped[t] else (images[t : t + 1], flows[t : t + 1])
            np.testing.assert_array_equal(out_images[t : t + 1], expected_images)
            np.testing.assert_array_equal(out_flows[t : t + 1], expected_flows)  # u negated with the flip
        seen.add(tuple(sorted(set(flipped.tolist()))))
    # per clip: every frame alike, flipped in some clips and not in others; per frame: each clip mixes both
    assert seen == ({(False, True)} if per_frame else {(False,), (True,)})


def test_per_frame_crops_and_erasing_differ_across_frames_but_match_across_modalities():
    images, flows = clip(t=8, h=32, w=16)
    h, w = images.shape[1:3]
    ramp = (np.arange(h)[:, None] * w + np.arange(w)[None, :]).astype(np.float32) + 1
    images[..., 0] = (ramp % 250).astype(np.uint8)
    flows[:, 1] = ramp  # v carries the position (a flip would only negate u)
    augment = ClipAugment(flip_p=0, pad_fraction=0.25, erase_p=1.0, per_frame=True)
    out_images, out_flows = augment(images, flows, np.random.default_rng(3))
    v = out_flows[:, 1]
    kept = v != 0  # neither padding nor erased
    np.testing.assert_array_equal(out_images[..., 0][kept], (v[kept] % 250).astype(np.uint8))
    first_visible = [v[t][kept[t]].min() for t in range(len(v))]
    assert len(set(first_visible)) > 1  # each frame has its own crop offset
    erased_masks = {kept[t].tobytes() for t in range(len(v))}
    assert len(erased_masks) > 1


def test_train_clips_draw_frames_with_the_named_sampling(tmp_path):
    from helpers_store import write_tiny_store
    from reid.data.clips import TrainClips

    store = write_tiny_store(tmp_path / "tiny.h5")
    for name in TRAIN_SAMPLING:
        images, flows, label = TrainClips(store, seq_len=3, sampling=name)[(0, 0)]
        assert images.shape[:2] == (3, 3) and flows.shape[:2] == (3, 2)
    with pytest.raises(ValueError, match="unknown sampling 'dense'"):
        TrainClips(store, sampling="dense")
