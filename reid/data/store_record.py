"""What a checkpoint records of its training store, and how a store to evaluate on differs from it.

A model trained on 256x128 frames, DIS flow or split 0 still runs on a 64x32 store, LiteFlowNet
flow or split 3's test set, and silently scores something else (on another split of iLIDS-VID or
PRID, test identities were seen in training). Checkpoints keep ``describe_store`` under the key
``"store"``; ``reid evaluate``, ``reid visualize`` and ``reid search`` compare it with the store they are
given, and say so when it holds another dataset (a PRID model on iLIDS-VID gives plausible numbers).
"""

from __future__ import annotations

import sys

from flowprep import StoreReader

# settings of the store that change what a model sees; the split only between two stores of one dataset
# that both record one
COMPARED = ("height", "width", "flow_method", "flow_codec")


def describe_store(reader: StoreReader) -> dict:
    """The training store as a checkpoint and the run record keep it (plain values, loadable with
    ``weights_only``): what identifies it, and how it encoded frames and flow, so a query can be encoded alike."""
    meta = reader.meta
    return {
        "path": str(reader.path.resolve()), "dataset": meta.dataset, "split": int(meta.split),
        "split_source": meta.split_source, "schema_version": int(meta.schema_version), "created": meta.created,
        "height": int(meta.height), "width": int(meta.width), "flow_method": meta.flow_method,
        "flow_params": meta.flow_params, "flow_codec": meta.flow_codec, "flow_step": float(meta.flow_step),
        "jpeg_quality": int(meta.jpeg_quality), "tracklets": len(reader.tracklets),
    }


def check_compatible(trained: dict, store: dict) -> list[str]:
    """The differences between the training store and ``store`` that make scores misleading, in words."""
    differences = [f"{key} {trained[key]} in training, {store[key]} here" for key in COMPARED
                   if key in trained and trained[key] != store[key]]
    if trained.get("dataset") == store["dataset"] and min(trained.get("split", -1), store["split"]) >= 0:
        if trained["split"] != store["split"]:
            differences.append(f"split {trained['split']} in training, {store['split']} here "
                               "(its test identities may have been trained on)")
        elif trained.get("split_source") and store["split_source"] and trained["split_source"] != store["split_source"]:
            differences.append(f"split {store['split']} from {trained['split_source']} in training, "
                               f"from {store['split_source']} here (its test identities may have been trained on)")
    return differences


def training_store_words(trained: dict) -> str:
    """The training store in a few words, for a notice or an evaluation header: "prid split 0 (/runs/prid.h5)"."""
    split = f" split {trained['split']}" if trained.get("split", -1) >= 0 else ""
    return f"{trained.get('dataset', 'an unrecorded dataset')}{split} ({trained.get('path', 'an unrecorded path')})"


def other_dataset_notice(checkpoint: str, trained: dict | None, store: dict) -> str | None:
    """One line when ``store`` holds another dataset than the checkpoint was trained on (a transfer
    experiment, whose scores say nothing about the training dataset); None when it is the same dataset,
    or the checkpoint predates store records."""
    if not trained or trained.get("dataset") in (None, store["dataset"]):
        return None
    return (f"note: {checkpoint} was trained on {training_store_words(trained)}; {store['path']} holds "
            f"{store['dataset']}: these are cross-dataset (transfer) results")


def same_identities(trained: dict | None, store: dict) -> bool:
    """Whether two stores number the same training people: one dataset, and one split where they have
    splits (an identity classifier means nothing on another dataset's or split's people, whatever their count).
    A checkpoint that predates store records is taken at its word."""
    if not trained:
        return True
    return trained.get("dataset") == store["dataset"] and trained.get("split", -1) == store["split"]


def require_compatible(checkpoint: str, trained: dict | None, reader: StoreReader, allow_mismatch: bool) -> list[str]:
    """Refuse ``reader`` in one line if it differs from the checkpoint's training store, unless the user
    allows it (``--allow-store-mismatch``); return the differences, which the caller then warns about.
    A store of another dataset is allowed (cross-dataset evaluation is an experiment of its own) with a
    one-line notice on stderr. A checkpoint from before stores were recorded is not checked."""
    from reid.errors import CheckpointError

    store = describe_store(reader)
    differences = check_compatible(trained, store) if trained else []
    if differences and not allow_mismatch:
        raise CheckpointError(f"{checkpoint}: trained on another kind of store than {reader.path} "
                              f"({'; '.join(differences)}); pass --allow-store-mismatch to run anyway")
    notice = other_dataset_notice(checkpoint, trained, store)
    if notice:
        print(notice, file=sys.stderr)
    return differences
