"""Per-layout sizes and limits (no heavy imports: the CLI's --help reads the defaults)."""

from __future__ import annotations

from dataclasses import dataclass

from flowprep.errors import FlowprepError


@dataclass(frozen=True)
class LayoutSpec:
    name: str
    identities: int  # default: people seen by two or more cameras
    cameras: int  # default
    min_cameras: int
    max_cameras: int  # the real dataset's count; file names have room for one digit
    max_identities: int  # what the real naming scheme can number
    frame_size: tuple[int, int]  # (height, width) of written crops, the dataset's usual size
    frame_name_forms: tuple[str, ...] = ()  # releases that named frames differently; the first is the default


LAYOUTS: dict[str, LayoutSpec] = {
    spec.name: spec
    for spec in (
        LayoutSpec("mars", 80, 6, min_cameras=2, max_cameras=6, max_identities=9000, frame_size=(256, 128)),
        LayoutSpec("duke", 80, 8, min_cameras=2, max_cameras=8, max_identities=8000, frame_size=(256, 128),
                   frame_name_forms=("current", "older")),
        LayoutSpec("ilidsvid", 60, 2, min_cameras=2, max_cameras=2, max_identities=900, frame_size=(128, 64)),
        LayoutSpec("prid", 60, 2, min_cameras=2, max_cameras=2, max_identities=200, frame_size=(128, 64)),
        LayoutSpec("lsvid", 40, 6, min_cameras=2, max_cameras=15, max_identities=9999, frame_size=(256, 128)),
        LayoutSpec("mevid", 40, 8, min_cameras=2, max_cameras=33, max_identities=9999, frame_size=(256, 128)),
    )
}


def layout_spec(layout: str, identities: int, cameras: int, frame_names: str | None = None) -> LayoutSpec:
    """The layout's spec, after refusing sizes its real naming scheme cannot express and naming
    forms it never had."""
    spec = LAYOUTS.get(layout)
    if spec is None:
        raise FlowprepError(f"unknown layout {layout!r} (known: {', '.join(LAYOUTS)})")
    if not 2 <= identities <= spec.max_identities:
        raise FlowprepError(f"{layout}: identities must be 2..{spec.max_identities}, got {identities}")
    if not spec.min_cameras <= cameras <= spec.max_cameras:
        raise FlowprepError(f"{layout}: cameras must be {spec.min_cameras}..{spec.max_cameras}, got {cameras}")
    if frame_names is not None and frame_names not in spec.frame_name_forms:
        known = ", ".join(spec.frame_name_forms) or "none, its frames have one naming form"
        raise FlowprepError(f"{layout}: no frame-name form {frame_names!r} (known: {known})")
    return spec
