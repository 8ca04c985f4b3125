"""What a run leaves to read: ``metrics.csv`` (one row per epoch, a column per metric), TensorBoard
events (written by ``torch.utils.tensorboard``) and ``train.log`` (the lines shown on screen)."""

from __future__ import annotations

import csv
from pathlib import Path

from flowreid.atomic import atomic_path

EPOCH = "epoch"


class RunLog:
    """Appends one epoch's scalars to ``metrics.csv`` and the event file; ``line`` shows text and keeps it in ``train.log``.

    ``resumed_step``: the checkpoint's epoch; what a killed run logged after it is dropped, so each epoch appears once.
    """

    def __init__(self, run_dir: Path, enabled: bool = True, resumed_step: int = 0):
        self.enabled = enabled
        run_dir = Path(run_dir)
        self.csv_path, self.text_path = run_dir / "metrics.csv", run_dir / "train.log"
        if not enabled:
            return
        from torch.utils.tensorboard import SummaryWriter

        self._drop_rows_after(resumed_step)
        # purge_step hides the events a killed run wrote after its last checkpoint
        self._events = SummaryWriter(str(run_dir), purge_step=resumed_step + 1 if resumed_step else None)

    def line(self, text: str, show: bool = True) -> None:
        """Append ``text`` to train.log, and print it (above any progress bar) when ``show``."""
        if not self.enabled:
            return
        if show:
            from tqdm import tqdm

            tqdm.write(text)
        with open(self.text_path, "a") as handle:
            handle.write(text + "\n")

    def log(self, epoch: int, scalars: dict[str, float]) -> None:
        if not self.enabled:
            return
        self._append_row({EPOCH: str(epoch), **{name: f"{value:.6g}" for name, value in scalars.items()}})
        for name, value in scalars.items():
            self._events.add_scalar(name, float(value), global_step=epoch)
        self._events.flush()

    def _rows(self) -> tuple[list[str], list[dict[str, str]]]:
        if not self.csv_path.exists():
            return [], []
        with open(self.csv_path, newline="") as handle:
            reader = csv.DictReader(handle)
            return list(reader.fieldnames or []), list(reader)

    def _write(self, columns: list[str], rows: list[dict[str, str]]) -> None:
        with atomic_path(self.csv_path) as tmp, open(tmp, "w", newline="") as handle:
            writer = csv.DictWriter(handle, columns, restval="")
            writer.writeheader()
            writer.writerows(rows)

    def _append_row(self, row: dict[str, str]) -> None:
        columns, rows = self._rows()
        if columns and set(row) <= set(columns):
            with open(self.csv_path, "a", newline="") as handle:
                csv.DictWriter(handle, columns, restval="").writerow(row)
            return
        # a metric seen for the first time (the first evaluation): widen the header, keep the rows
        columns = [EPOCH] + [c for c in columns if c != EPOCH] + [k for k in row if k not in columns and k != EPOCH]
        self._write(columns, rows + [row])

    def _drop_rows_after(self, epoch: int) -> None:
        columns, rows = self._rows()
        kept = [row for row in rows if (row.get(EPOCH) or "").isdigit() and int(row[EPOCH]) <= epoch]
        if len(kept) != len(rows):
            self._write(columns, kept)

    def close(self) -> None:
        if self.enabled:
            self._events.close()
