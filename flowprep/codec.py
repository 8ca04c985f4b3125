"""Byte encodings of one image frame and one flow frame inside the store.

Images are JPEG (what the datasets ship, so little is lost). Flow is quantised to a
fixed step and stored as one grey image, u stacked above v, in one of two codecs:

* ``jpeg`` (the default): 8-bit codes at 1/4 px, so +-32 px per component, JPEG
  quality 95. The field's convention for two-stream networks (TSN's clipped 8-bit
  flow images). Within range the mean error is 0.07 px (99th percentile 0.25 px) on
  DIS flow of the synthetic MARS set (``benchmarks/bench_extract.py``), far below the
  estimators' own error, and the models' flow encodings saturate at 10 px anyway. It
  is 11x faster to encode than the PNG and a third of its size, which keeps extraction
  near the speed of the flow estimator.
* ``png16``: lossless 16-bit PNG of codes at 1/8 px (+-4096 px), for users who
  study the flow itself; 17.9 KiB instead of 5.3 KiB per 256x128 frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

FLOW_JPEG_QUALITY = 95
# per flow codec: its default step (px per code), the code of zero flow, the OpenCV depth of a code
FLOW_CODECS = {"jpeg": (1.0 / 4.0, 128, cv2.CV_8U), "png16": (1.0 / 8.0, 32768, cv2.CV_16U)}


class CodecError(ValueError):
    """Bytes in the store do not decode to a frame of the expected shape."""


def _imdecode(data: bytes | np.ndarray, flags: int) -> np.ndarray | None:
    """``cv2.imdecode``, but None for every undecodable input: OpenCV raises on some (an empty buffer)."""
    try:
        return cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    except cv2.error:
        return None


@dataclass(frozen=True)
class FrameCodec:
    """How frames of one store are encoded; its fields are stored as root attributes."""

    height: int = 256
    width: int = 128
    jpeg_quality: int = 90
    flow_codec: str = "jpeg"
    flow_step: float = FLOW_CODECS["jpeg"][0]  # pixels per code

    def __post_init__(self) -> None:
        if self.flow_codec not in FLOW_CODECS:
            raise CodecError(f"unknown flow codec {self.flow_codec!r}; known: {', '.join(FLOW_CODECS)}")

    @classmethod
    def with_flow_codec(cls, flow_codec: str, height: int = 256, width: int = 128) -> "FrameCodec":
        """A codec with ``flow_codec``'s default step (``flow_step`` belongs to the flow codec)."""
        step = FLOW_CODECS[flow_codec][0] if flow_codec in FLOW_CODECS else cls.flow_step
        return cls(height=height, width=width, flow_codec=flow_codec, flow_step=step)  # checks the name

    def encode_image(self, image_bgr: np.ndarray) -> bytes:
        ok, buf = cv2.imencode(".jpg", image_bgr, [cv2.IMWRITE_JPEG_QUALITY, self.jpeg_quality])
        if not ok:
            raise CodecError("JPEG encoding failed")
        return buf.tobytes()

    def decode_image(self, data: bytes | np.ndarray) -> np.ndarray:
        """Decode to RGB uint8 (H, W, 3): RGB is what the ImageNet-trained backbones expect."""
        image = _imdecode(data, cv2.IMREAD_COLOR)
        if image is None or image.shape != (self.height, self.width, 3):
            raise CodecError(f"image bytes do not decode to a {self.height}x{self.width} colour image")
        return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)

    def encode_flow(self, flow: np.ndarray) -> bytes:
        """Encode float flow (2, H, W) in pixels; components beyond the codec's range are clipped."""
        _, zero, depth = FLOW_CODECS[self.flow_codec]
        stacked = np.ascontiguousarray(flow, dtype=np.float32).reshape(2 * self.height, self.width)
        # one OpenCV pass scales, rounds and saturates: half the time of the same in numpy
        codes = cv2.addWeighted(stacked, 1.0 / self.flow_step, stacked, 0.0, float(zero), dtype=depth)
        if self.flow_codec == "jpeg":
            ok, buf = cv2.imencode(".jpg", codes, [cv2.IMWRITE_JPEG_QUALITY, FLOW_JPEG_QUALITY])
        else:
            # run-length deflate: 10x faster than the default strategy and smaller on smooth flow
            params = [cv2.IMWRITE_PNG_COMPRESSION, 1, cv2.IMWRITE_PNG_STRATEGY, cv2.IMWRITE_PNG_STRATEGY_RLE]
            ok, buf = cv2.imencode(".png", codes, params)
        if not ok:
            raise CodecError(f"{self.flow_codec} encoding of a flow frame failed")
        return buf.tobytes()

    def decode_flow(self, data: bytes | np.ndarray) -> np.ndarray:
        """Decode to float32 flow (2, H, W) in pixels of the stored frame size."""
        _, zero, depth = FLOW_CODECS[self.flow_codec]
        codes = _imdecode(data, cv2.IMREAD_GRAYSCALE if self.flow_codec == "jpeg" else cv2.IMREAD_UNCHANGED)
        expected = np.uint8 if depth == cv2.CV_8U else np.uint16
        if codes is None or codes.dtype != expected or codes.shape != (2 * self.height, self.width):
            raise CodecError(f"flow bytes do not decode to a 2x{self.height}x{self.width} {self.flow_codec} flow")
        flow = (codes.astype(np.float32) - zero) * np.float32(self.flow_step)
        return flow.reshape(2, self.height, self.width)
