"""What a synthetic dataset holds, as the writer intended it: tests compare it with what adapters read."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from flowprep.datasets.base import ROLES
from flowreid.wording import counted

if TYPE_CHECKING:  # the CLI imports this package for --help; keep NumPy out of that path
    from flowprep.synth.plan import Shot


@dataclass(frozen=True)
class SynthSummary:
    """Counts for the standard protocol and split 0.

    ``tracklets``/``identities``/``frames`` describe what the adapter should return
    (identities exclude the distractor pid 0); ``junk`` (MARS pid -1) and ``unused``
    (PRID persons seen by one camera) are written but dropped by the adapter.
    """

    layout: str
    out: Path
    seed: int
    cameras: int
    tracklets: dict[str, int]
    identities: dict[str, int]
    frames: int
    junk: int
    distractors: int
    unused: int
    files: int

    @classmethod
    def of(cls, layout: str, out: Path, seed: int, cameras: int, shots: Sequence[Shot]) -> SynthSummary:
        kept = [shot for shot in shots if shot.role is not None]
        return cls(
            layout=layout,
            out=out,
            seed=seed,
            cameras=cameras,
            tracklets={role: sum(shot.role == role for shot in kept) for role in ROLES},
            identities={role: len({s.pid for s in kept if s.role == role and s.pid > 0}) for role in ROLES},
            frames=sum(shot.length for shot in kept),
            junk=sum(shot.pid == -1 for shot in shots),
            distractors=sum(shot.pid == 0 for shot in shots),
            unused=sum(shot.role is None and shot.pid > 0 for shot in shots),
            files=sum(shot.length for shot in shots),
        )

    def describe(self) -> str:
        roles = ", ".join(f"{self.tracklets[r]} {r} ({self.identities[r]} identities)" for r in ROLES)
        extras = []
        if self.distractors:
            extras.append(f"{counted(self.distractors, 'distractor tracklet')} (pid 0, gallery)")
        if self.junk:
            extras.append(f"{counted(self.junk, 'junk tracklet')} (pid -1, dropped by the adapter)")
        if self.unused:
            extras.append(f"{counted(self.unused, 'single-camera tracklet')} the adapter ignores")
        extra = f"; plus {', '.join(extras)}" if extras else ""
        return (
            f"Wrote a synthetic {self.layout} dataset to {self.out} (seed {self.seed}, {self.cameras} cameras). "
            f"The adapter reads (split 0, standard protocol) {roles}; {self.frames} frames in those tracklets"
            f"{extra}; {self.files} image files in all."
        )
