"""``flowprep extract``: every tracklet of a dataset -> frames + optical flow -> one store.

The work is cut into chunks of whole tracklets. A chunk is read, given flow and encoded
either in a joblib process pool (the CPU estimators) or, for the GPU estimator, read and
encoded by threads around one process that batches many pairs on the device. One process
writes, through the parts journal, so the run can be killed and resumed at any moment.
"""

from __future__ import annotations

import time
import warnings
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Generator, Iterable, Iterator, Sequence

from flowprep.codec import FrameCodec
from flowprep.datasets import open_dataset
from flowprep.datasets.base import Tracklet, default_cache
from flowprep.encode import encode_tracklet
from flowprep.errors import DatasetError, FlowprepError
from flowprep.flow import flows_for_tracklets
from flowprep.frames import LoadedFrames, load_frames
from flowprep.interrupts import StopRequest, interrupts_ignored
from flowprep.parts import PartsJournal, RunLock
from flowprep.shards import Shard
from flowprep.store import EncodedTracklet, StoreMeta
from flowreid.outputs import writable_folder
from flowreid.progress import Progress, progress_display

Chunk = list[tuple[int, Tracklet]]  # (position in the dataset's tracklet list, tracklet)


@dataclass
class ExtractSummary:
    """What a run did: printed at the end and returned to callers and tests."""

    tracklets: int = 0
    frames: int = 0
    resumed_tracklets: int = 0
    skipped_frames: list[tuple[str, str, str]] = field(default_factory=list)  # tracklet, frame, reason
    skipped_tracklets: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    already_complete: bool = False  # --resume found the store finished by an earlier run

    def report(self) -> str:
        if self.already_complete:
            return f"already complete ({self.tracklets} tracklets, {self.frames} frames); nothing to do"
        lines = [
            f"wrote {self.tracklets} tracklets, {self.frames} frames in {self.seconds:.1f} s"
            + (f" ({self.frames / self.seconds:.0f} frames/s)" if self.seconds > 0 else "")
            + (f"; {self.resumed_tracklets} tracklets were already done" if self.resumed_tracklets else ""),
            f"skipped {len(self.skipped_frames)} frames, {len(self.skipped_tracklets)} tracklets",
        ]
        lines += [f"  skipped frame {t}/{f}: {why}" for t, f, why in self.skipped_frames[:50]]
        if len(self.skipped_frames) > 50:
            lines.append(f"  ... and {len(self.skipped_frames) - 50} more (all recorded in the store)")
        lines += [f"  skipped tracklet {t}: {why}" for t, why in self.skipped_tracklets]
        return "\n".join(lines)


def make_chunks(items: Sequence[tuple[int, Tracklet]], min_frames: int) -> list[Chunk]:
    """Group whole tracklets so each chunk holds at least ``min_frames`` frames (the last may hold fewer)."""
    chunks: list[Chunk] = []
    current: Chunk = []
    frames = 0
    for item in items:
        current.append(item)
        frames += len(item[1].frames)
        if frames >= min_frames:
            chunks.append(current)
            current, frames = [], 0
    if current:
        chunks.append(current)
    return chunks


def _load_chunk(chunk: Chunk, codec: FrameCodec) -> list[LoadedFrames]:
    return [load_frames(t.frames, codec.height, codec.width) for _, t in chunk]


def _encode_chunk(chunk: Chunk, loaded: list[LoadedFrames], flows: list, codec: FrameCodec) -> list[EncodedTracklet]:
    return [encode_tracklet(codec, frames, flow, name=t.name, order=order, pid=t.pid, camid=t.camid, role=t.role,
                            outfit=t.outfit)
            for (order, t), frames, flow in zip(chunk, loaded, flows)]


def process_chunk(chunk: Chunk, estimator, codec: FrameCodec) -> list[EncodedTracklet]:
    """Read, flow and encode one chunk: the unit of work of a CPU worker process."""
    loaded = _load_chunk(chunk, codec)
    flows = flows_for_tracklets(estimator, [frames.frames for frames in loaded])
    return _encode_chunk(chunk, loaded, flows, codec)


def _run_in_processes(chunks: list[Chunk], estimator, codec: FrameCodec, workers: int) -> Iterator[list[EncodedTracklet]]:
    if workers <= 1:
        return (process_chunk(chunk, estimator, codec) for chunk in chunks)
    from joblib import Parallel, delayed

    parallel = Parallel(n_jobs=workers, return_as="generator", pre_dispatch="2*n_jobs")
    with interrupts_ignored():  # the pool's processes start in this call
        return parallel(delayed(process_chunk)(chunk, estimator, codec) for chunk in chunks)


def _bounded_map(pool: ThreadPoolExecutor, fn: Callable, items: Iterable, depth: int) -> Iterator:
    """``pool.map`` that keeps at most ``depth`` items in flight, so memory stays bounded."""
    pending: list[Future] = []
    for item in items:
        pending.append(pool.submit(fn, item))
        if len(pending) >= depth:
            yield pending.pop(0).result()
    for future in pending:
        yield future.result()


def _run_on_device(chunks: list[Chunk], estimator, codec: FrameCodec, workers: int) -> Iterator[list[EncodedTracklet]]:
    """Threads read and encode (OpenCV releases the GIL) while this thread feeds the device."""
    with ThreadPoolExecutor(max(1, workers)) as pool:
        depth = 2 * max(1, workers)
        loaded_chunks = _bounded_map(pool, lambda c: (c, _load_chunk(c, codec)), chunks, depth)

        def with_flow() -> Iterator[tuple[Chunk, list[LoadedFrames], list]]:
            for chunk, loaded in loaded_chunks:
                yield chunk, loaded, flows_for_tracklets(estimator, [f.frames for f in loaded])

        yield from _bounded_map(pool, lambda item: _encode_chunk(*item, codec), with_flow(), depth)


def _journal(results: Generator[list[EncodedTracklet], None, None], journal: PartsJournal, summary: ExtractSummary,
             bar: Progress) -> None:
    """Journal each finished tracklet; on Ctrl-C or a dataset error (a frame this user may not read),
    stop the workers quietly and keep what is finished."""
    try:
        with StopRequest() as stop:
            for encoded_chunk in results:
                for tracklet in encoded_chunk:
                    summary.skipped_frames += [(tracklet.name, f, why) for f, why in tracklet.skipped]
                    if tracklet.images:
                        journal.add(tracklet)
                    else:
                        journal.add_skipped(tracklet.name, "no readable frame")
                    bar.update(len(tracklet.images) + len(tracklet.skipped))
                if stop.requested:
                    raise KeyboardInterrupt
    except KeyboardInterrupt:
        _keep_finished(results, journal)
        raise
    except DatasetError as exc:  # a frame this user may not read: the reader cannot know what the run keeps
        _keep_finished(results, journal)
        raise DatasetError(f"{exc} (finished tracklets are kept for --resume)") from None


def _keep_finished(results: Generator[list[EncodedTracklet], None, None], journal: PartsJournal) -> None:
    """Stop the workers quietly and write what is finished as a part, for --resume."""
    with warnings.catch_warnings():  # joblib would warn of the cancelled tasks: the error or interrupt says it
        warnings.simplefilter("ignore")
        results.close()
    journal.flush()


@dataclass(frozen=True)
class ExtractOptions:
    """Everything ``flowprep extract`` takes, so the CLI, pipelines and tests share one entry point."""

    dataset: str
    root: Path
    out: Path
    flow: str = "dis"
    flow_params: dict = field(default_factory=dict)
    weights: Path | None = None
    device: str = "cpu"
    workers: int = 1
    height: int = 256
    width: int = 128
    flow_codec: str = "jpeg"
    resume: bool = False
    overwrite: bool = False
    shard: Shard = Shard()
    split: int | None = None
    split_file: Path | None = None  # iLIDS-VID/PRID: the split file [default: the one found in the root]
    cache: Path | None = None  # what the adapter derives from the dataset (MOT crops) [default: default_cache(out)]
    flush_seconds: float = 10.0  # how much finished work a kill may cost at most


def _check_destination(opts: ExtractOptions, journal: PartsJournal) -> None:
    if opts.resume and opts.overwrite:
        raise FlowprepError("--resume and --overwrite contradict each other: pass one")
    if opts.overwrite:
        journal.reset()
        return
    if opts.out.exists() and not journal.exists() and not opts.resume:
        raise FlowprepError(f"{opts.out}: store exists; pass --overwrite to replace it (or --resume to accept it if finished)")
    if journal.exists() and not opts.resume:
        raise FlowprepError(f"{journal.folder}: an interrupted run left its parts; pass --resume to continue or --overwrite to restart")


def extract(
    opts: ExtractOptions, progress: bool = True, notify: Callable[[str], None] | None = None
) -> ExtractSummary:
    """Run an extraction end to end and return its summary; ``notify`` hears, once the dataset is
    read, which split it holds and from where (iLIDS-VID/PRID)."""
    from flowprep.flow import create_estimator

    started = time.monotonic()
    writable_folder(opts.out.parent, create=True)
    estimator = create_estimator(opts.flow, device=opts.device, weights=opts.weights, **opts.flow_params)
    if not estimator.supports_size(opts.height, opts.width):
        raise FlowprepError(f"--size {opts.height}x{opts.width}: {estimator.name} flow {estimator.params} fails on frames "
                            "this small; choose a larger size (e.g. 64x32; the paper uses 256x128)")
    dataset = open_dataset(opts.dataset, opts.root, split=opts.split, split_file=opts.split_file,
                           cache=opts.cache or default_cache(opts.out))
    tracklets = dataset.tracklets()
    if notify is not None and dataset.has_splits:
        notify(dataset.split_note())
    codec = FrameCodec.with_flow_codec(opts.flow_codec, height=opts.height, width=opts.width)
    meta = StoreMeta(
        dataset=opts.dataset,
        flow_method=estimator.name,
        flow_params=estimator.params,
        split=dataset.store_split,
        split_source=dataset.split_source(),
        height=codec.height,
        width=codec.width,
        jpeg_quality=codec.jpeg_quality,
        flow_codec=codec.flow_codec,
        flow_step=codec.flow_step,
        shard=str(opts.shard),
        dataset_tracklets=len(tracklets),
    )
    journal = PartsJournal(opts.out, meta, flush_seconds=opts.flush_seconds)
    with RunLock(opts.out):
        _check_destination(opts, journal)
        if opts.resume and opts.out.exists() and not journal.part_files():
            # an earlier run finished (and may have been killed while it dropped its journal)
            journal.reset()
            return _finished_summary(opts.out, meta, started)
        done = journal.done()
        mine = [(i, t) for i, t in enumerate(tracklets) if opts.shard.selects(t)]
        todo = [(i, t) for i, t in mine if t.name not in done]
        summary = ExtractSummary(resumed_tracklets=len(mine) - len(todo))
        min_frames = max(estimator.preferred_batch, 32)
        chunks = make_chunks(todo, min_frames)
        run = _run_in_processes if estimator.needs_process_pool else _run_on_device
        total_frames = sum(len(t.frames) for _, t in todo)
        with progress_display(total_frames, "extract", "frame", enabled=progress) as bar:
            _journal(run(chunks, estimator, codec, opts.workers), journal, summary, bar)
        merged = journal.assemble(opts.out)
    with_store = _count_store(opts.out)
    summary.tracklets, summary.frames = with_store
    summary.skipped_tracklets = list(merged.skipped_tracklets)
    summary.seconds = time.monotonic() - started
    return summary


def _finished_summary(store: Path, meta: StoreMeta, started: float) -> ExtractSummary:
    """A requeued job that finds its store finished succeeds, if the store was made with these settings."""
    from flowprep.store import open_store

    with open_store(store) as reader:
        if reader.meta.content_key() != meta.content_key():
            raise FlowprepError(f"{store}: finished with other settings (dataset, split, flow or size); "
                                "pass --overwrite to replace it")
        return ExtractSummary(tracklets=len(reader.tracklets), frames=reader.num_frames, already_complete=True,
                              seconds=time.monotonic() - started)


def _count_store(path: Path) -> tuple[int, int]:
    from flowprep.store import open_store

    with open_store(path) as reader:
        return len(reader.tracklets), reader.num_frames
