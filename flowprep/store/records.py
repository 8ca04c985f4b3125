"""What a store holds, as Python values: its metadata, its tracklets and frames, and a tracklet to write."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from flowprep.codec import FrameCodec
from flowprep.store.schema import NO_OUTFIT, ROLE_CODE, SCHEMA_VERSION
from flowreid import __version__


@dataclass(frozen=True)
class StoreMeta:
    """Root attributes: where the store came from and how its frames are encoded."""

    dataset: str
    flow_method: str
    flow_params: dict = field(default_factory=dict)
    split: int = -1
    split_source: str = ""  # "<file> sha256:<hex>" or "default: <how>"; empty without splits or before it was kept
    height: int = FrameCodec.height
    width: int = FrameCodec.width
    jpeg_quality: int = FrameCodec.jpeg_quality
    flow_codec: str = FrameCodec.flow_codec
    flow_step: float = FrameCodec.flow_step
    created: str = ""
    project_version: str = __version__
    schema_version: int = SCHEMA_VERSION
    skipped_tracklets: tuple[tuple[str, str], ...] = ()
    shard: str = "0/1"
    dataset_tracklets: int = -1

    def __post_init__(self) -> None:
        self.codec  # an unknown flow codec is a CodecError here, not at the first decode

    @property
    def codec(self) -> FrameCodec:
        return FrameCodec(self.height, self.width, self.jpeg_quality, self.flow_codec, self.flow_step)

    def content_key(self, across_shards: bool = False) -> dict:
        """The attributes two stores must share for their tracklets to be joined: the parts of one run
        share all of them, the shards of one dataset all but ``shard``."""
        ignored = {"created", "project_version", "schema_version", "skipped_tracklets"} | ({"shard"} if across_shards else set())
        return {k: v for k, v in asdict(self).items() if k not in ignored}


@dataclass
class EncodedTracklet:
    """One tracklet's frames, already encoded, ready to be written."""

    name: str
    order: int
    pid: int
    camid: int
    role: str
    frame_names: list[str]
    images: list[bytes]
    flows: list[bytes]
    skipped: list[tuple[str, str]] = field(default_factory=list)
    outfit: int = NO_OUTFIT

    @property
    def nbytes(self) -> int:
        return sum(map(len, self.images)) + sum(map(len, self.flows))


def _tile_starts(counts: np.ndarray) -> np.ndarray:
    """Where consecutive ranges of these lengths start, from 0 with no gap."""
    return np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64) if len(counts) else np.zeros(0, np.int64)


@dataclass(frozen=True)
class TrackletIndex:
    """Per-tracklet metadata of a store, as numpy arrays (loaded once, cheap to pickle)."""

    name: np.ndarray
    order: np.ndarray
    pid: np.ndarray
    camid: np.ndarray
    role: np.ndarray
    frame_start: np.ndarray
    frame_count: np.ndarray
    skipped: np.ndarray
    outfit: np.ndarray | None = None  # None: the dataset does not say (all NO_OUTFIT)

    def __post_init__(self) -> None:
        if self.outfit is None:
            object.__setattr__(self, "outfit", np.full(len(self.name), NO_OUTFIT, np.int32))

    def has_outfits(self) -> bool:
        """Whether the store knows its persons' outfits (MEVID), so clothes-changing scores can be made."""
        return bool((self.outfit != NO_OUTFIT).any())

    def __len__(self) -> int:
        return len(self.name)

    def of_role(self, role: str) -> np.ndarray:
        """Indices of the tracklets with this role, in store order."""
        return np.flatnonzero(self.role == ROLE_CODE[role])

    def first_untiled(self) -> int | None:
        """The first tracklet whose frames do not start where the previous one's end (the first
        starting at 0), or None: the tracklets tile /frames in store order, as every writer lays them."""
        wrong = np.flatnonzero(self.frame_start.astype(np.int64) != _tile_starts(self.frame_count.astype(np.int64)))
        return int(wrong[0]) if len(wrong) else None


@dataclass(frozen=True)
class FrameIndex:
    """Where each frame's encoded bytes lie in /blob, and their checksum (the /frames columns but the names)."""

    image_offset: np.ndarray
    image_size: np.ndarray
    flow_offset: np.ndarray
    flow_size: np.ndarray
    crc32: np.ndarray

    def __len__(self) -> int:
        return len(self.image_offset)

    @property
    def end(self) -> np.ndarray:
        """The byte after each frame's flow image, the frame's last bytes."""
        return self.flow_offset + self.flow_size

    def contiguous(self) -> bool:
        """Whether the frames' bytes follow one another from byte 0 with no gap, each image then its
        flow: the layout every writer produces, so a run of frames is one byte range of /blob."""
        if not len(self):
            return True
        image_end = self.image_offset + self.image_size
        return bool(self.image_offset[0] == 0 and np.array_equal(self.flow_offset, image_end)
                    and np.array_equal(self.image_offset[1:], self.end[:-1]))
