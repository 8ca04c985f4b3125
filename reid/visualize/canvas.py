"""Small building blocks for the pictures: enlarged tiles, coloured frames, text labels, rows.

Every array here is RGB uint8 (H, W, 3); only ``save_png`` converts to OpenCV's BGR.
Store frames are small (256x128, or 32x16 in tests), so tiles are enlarged by a whole
factor with nearest-neighbour sampling: pixels stay sharp and labels stay readable.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np

from reid.errors import ReidError

WHITE = (255, 255, 255)
BLACK = (0, 0, 0)
GREEN = (0, 170, 0)  # a gallery tracklet of the query's identity
RED = (220, 30, 30)  # a gallery tracklet of another identity
GREY = (150, 150, 150)  # identity unknown (reid search)
BLUE = (30, 90, 220)  # the query
BORDER = 4
GAP = 4
MIN_TILE_HEIGHT = 128
LINE_HEIGHT = 14
MIN_CELL_WIDTH = 100
FONT = cv2.FONT_HERSHEY_SIMPLEX
FONT_SCALE = 0.38


def display_scale(height: int) -> int:
    """The whole factor that makes a frame of ``height`` pixels at least MIN_TILE_HEIGHT tall."""
    return max(1, math.ceil(MIN_TILE_HEIGHT / height))


def enlarge(image: np.ndarray, scale: int) -> np.ndarray:
    if scale == 1:
        return image
    return cv2.resize(image, (image.shape[1] * scale, image.shape[0] * scale), interpolation=cv2.INTER_NEAREST)


def framed(image: np.ndarray, colour: tuple[int, int, int], width: int = BORDER) -> np.ndarray:
    """``image`` inside a solid border of ``width`` pixels."""
    out = np.empty((image.shape[0] + 2 * width, image.shape[1] + 2 * width, 3), np.uint8)
    out[:] = colour
    out[width : width + image.shape[0], width : width + image.shape[1]] = image
    return out


def labelled(tile: np.ndarray, lines: Sequence[str], width: int | None = None) -> np.ndarray:
    """``tile`` centred at the top of a white cell, with one text line per entry of ``lines`` below it.

    The cell is ``width`` wide, or wider if the tile or a line of text needs it.
    """
    text_width = max((cv2.getTextSize(line, FONT, FONT_SCALE, 1)[0][0] + 4 for line in lines), default=0)
    width = max(tile.shape[1], width or 0, text_width)
    cell = np.full((tile.shape[0] + LINE_HEIGHT * len(lines) + 2, width, 3), WHITE, np.uint8)
    left = (width - tile.shape[1]) // 2
    cell[: tile.shape[0], left : left + tile.shape[1]] = tile
    for i, line in enumerate(lines):
        baseline = tile.shape[0] + LINE_HEIGHT * (i + 1) - 2
        cv2.putText(cell, line, (2, baseline), FONT, FONT_SCALE, BLACK, 1, cv2.LINE_AA)
    return cell


def row(cells: Sequence[np.ndarray], gap: int = GAP) -> np.ndarray:
    """Cells side by side, top-aligned on white, ``gap`` pixels apart."""
    height = max(cell.shape[0] for cell in cells)
    width = sum(cell.shape[1] for cell in cells) + gap * (len(cells) - 1)
    out = np.full((height, width, 3), WHITE, np.uint8)
    x = 0
    for cell in cells:
        out[: cell.shape[0], x : x + cell.shape[1]] = cell
        x += cell.shape[1] + gap
    return out


def column(rows: Sequence[np.ndarray], gap: int = GAP) -> np.ndarray:
    """Rows one below the other, left-aligned on white."""
    return np.ascontiguousarray(row([r.transpose(1, 0, 2) for r in rows], gap).transpose(1, 0, 2))


def save_png(path: Path, picture: np.ndarray) -> None:
    """Write an RGB picture as PNG, creating the folder; a failure is a one-line error."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), cv2.cvtColor(picture, cv2.COLOR_RGB2BGR)):
        raise ReidError(f"{path}: could not write the picture (is the extension .png and the folder writable?)")
