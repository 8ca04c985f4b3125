"""What a ``--checkpoint`` path points at: a run folder is read as its best.pt (or last.pt), and a file
that is no checkpoint at all (a store, a config, an image) is named for what it is.

``torch.load`` on an HDF5 store or a YAML file fails deep in the unpickler ("Unsupported operand 72"),
which reads like a security refusal; the first bytes of a file say plainly what it is instead.
"""

from __future__ import annotations

import sys
from pathlib import Path

from reid.errors import CheckpointError

RUN_CHECKPOINTS = ("best.pt", "last.pt")  # what a run folder offers, in the order it is taken
ZIP_MAGIC = b"PK\x03\x04"  # torch.save's format
PICKLE_PROTOCOL = 0x80  # a pickle of protocol 2 or later (torch's legacy format) starts with this byte
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
HDF5_USER_BLOCKS = (0, 512, 1024, 2048)  # where the HDF5 signature may sit (the first few it is looked for at)
KNOWN_FILES = (
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"\x1f\x8b", "a gzip file"),
)


def resolve_checkpoint(path: str | Path) -> Path:
    """The checkpoint file ``path`` means: the path itself, or a run folder's best.pt, else its last.pt
    (saying on stderr which one is taken). Raises one line when there is none."""
    path = Path(path)
    if not path.is_dir():
        if not path.exists():
            raise CheckpointError(f"{path}: no such checkpoint (pass --checkpoint with a file written by "
                                  "reid train, e.g. runs/NAME/best.pt, or the run folder)")
        return path
    for name in RUN_CHECKPOINTS:
        if (path / name).is_file():
            print(f"{path} is a run folder: using {path / name}", file=sys.stderr)
            return path / name
    others = sorted(p.name for p in path.glob("*.pt"))[:5]
    found = f"; it holds {', '.join(others)}" if others else ""
    raise CheckpointError(f"{path}: a folder without {' or '.join(RUN_CHECKPOINTS)} (not a run folder of "
                          f"reid train, or its first epoch never finished){found}")


def looks_like_checkpoint(head: bytes) -> bool:
    """True for the two formats ``torch.save`` writes (zip, or a legacy pickle)."""
    return head.startswith(ZIP_MAGIC) or (len(head) > 0 and head[0] == PICKLE_PROTOCOL)


def file_kind(path: Path) -> str | None:
    """What a file that is not a torch checkpoint is, in words; None when it may be one."""
    with path.open("rb") as handle:
        head = handle.read(4096)
    if not head:
        return "it is empty"
    if any(head[offset:offset + len(HDF5_MAGIC)] == HDF5_MAGIC for offset in HDF5_USER_BLOCKS):
        return "it is an HDF5 file (a flowprep store? stores go to --store)"
    if looks_like_checkpoint(head):
        return None
    if _is_safetensors(head):
        return "it is a safetensors weight file (backbone weights go to reid train --pretrained)"
    for magic, kind in KNOWN_FILES:
        if head.startswith(magic):
            return f"it is {kind}"
    if _is_text(head):
        return "it is a text file (a config.yaml? configs go to --config)"
    return f"it is neither a zip nor a pickle file (it starts with bytes {head[:8].hex(' ')})"


def _is_safetensors(head: bytes) -> bool:
    """A safetensors file: an 8-byte little-endian header length, then a JSON header."""
    return len(head) > 9 and head[8:9] == b"{" and int.from_bytes(head[:8], "little") > 1


def _is_text(head: bytes) -> bool:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:  # may cut a character at the end of the 4096 bytes
        try:
            text = head[:-3].decode("utf-8")
        except UnicodeDecodeError:
            return False
    return all(c.isprintable() or c in "\t\r\n" for c in text)


def refuse_non_checkpoint(path: Path) -> None:
    """One line naming what ``path`` is, when it is not a torch checkpoint at all."""
    kind = file_kind(path)
    if kind is not None:
        raise CheckpointError(f"{path} is not a checkpoint: {kind}; --checkpoint takes best.pt or last.pt "
                              "from a reid train run folder")
