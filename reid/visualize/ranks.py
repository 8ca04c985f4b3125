"""Ranked lists (``reid.ranking``) as pictures: the query clip, then the nearest gallery
tracklets, framed green (same identity as the query), red (another identity) or grey
(identity unknown)."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from reid.ranking import Match
from reid.visualize.canvas import (BLUE, GAP, GREEN, GREY, MIN_CELL_WIDTH, RED, display_scale, enlarge, framed,
                                   labelled, row)

SEPARATOR = 16  # white space between the query clip and its matches


def match_colour(match: Match) -> tuple[int, int, int]:
    """Green: the query's identity; red: another identity; grey: the query's identity is unknown."""
    return GREY if match.correct is None else GREEN if match.correct else RED


def rank_picture(query_frames: np.ndarray, query_label: str, matches: Sequence[Match]) -> np.ndarray:
    """One row: a few query frames (blue frames), a gap, then the matches in rank order.

    ``query_frames`` is RGB (T, H, W, 3); every frame is enlarged to be at least 128 pixels tall.
    """
    scale = display_scale(query_frames.shape[1])
    query = [labelled(framed(enlarge(frame, scale), BLUE), ["query", query_label] if i == 0 else ["", ""], MIN_CELL_WIDTH)
             for i, frame in enumerate(query_frames)]
    ranked = [labelled(framed(enlarge(m.frame, scale), match_colour(m)),
                       [f"#{k} pid {m.pid} cam {m.camid}", f"d {m.distance:.4g}"], MIN_CELL_WIDTH)
              for k, m in enumerate(matches, 1)]
    return row([row(query, GAP), row(ranked, GAP)], SEPARATOR) if ranked else row(query, GAP)
