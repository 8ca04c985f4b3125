"""Command-line values that commands of both stages share, spelled the same everywhere."""

from __future__ import annotations

import os

import click

MIN_SIDE = 8  # the smallest frame side any model or flow method in the project accepts


def parse_size(text: str, option: str = "--size") -> tuple[int, int]:
    """``--size HxW`` (e.g. 256x128) as (height, width); a click error naming ``option`` otherwise."""
    try:
        height, width = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise click.BadParameter(f"{text!r}: expected HxW, e.g. 256x128", param_hint=option) from None
    if height < MIN_SIDE or width < MIN_SIDE:
        raise click.BadParameter(f"{text}: both sides must be at least {MIN_SIDE} pixels", param_hint=option)
    return height, width


def default_workers(limit: int = 4) -> int:
    """The machine's cores, at most `limit`: more loader workers than cores only adds start-up cost and warnings."""
    return max(1, min(limit, os.cpu_count() or 1))
