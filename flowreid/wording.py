"""Counts in messages: "1 epoch", "2 epochs"."""

from __future__ import annotations


def counted(number: int, noun: str, plural: str | None = None) -> str:
    """``number`` and ``noun`` in the singular for one, else in the plural (``noun + "s"`` unless given)."""
    return f"{number} {noun if number == 1 else plural or noun + 's'}"
