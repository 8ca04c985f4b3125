"""Byte encodings of one image frame and one flow frame inside the store.

Images are JPEG (what the datasets ship, so little is lost) and flow is a
lossless PNG of the flow quantised to a fixed step (1/8 px): u stacked above v in
one 16-bit grey image. PNG's row filters exploit how smooth flow is; a finer step
mostly stores the estimators' sub-pixel noise (DIS flow of the synthetic MARS set:
31 KB per frame at 1/32 px, 19 KB at 1/8 px), and 1/16 px of error is far below
the estimators' own error. A 256x128 image+flow pair then stays under 35 KB.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

FLOW_ZERO = 32768  # the uint16 code of zero flow


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
    flow_step: float = 1.0 / 8.0  # pixels per step: error <= 1/16 px, range +-4096 px

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
        """Encode float flow (2, H, W) in pixels."""
        codes = np.clip(np.rint(flow / self.flow_step) + FLOW_ZERO, 0, 65535).astype(np.uint16)
        stacked = codes.reshape(2 * self.height, self.width)
        # run-length deflate: 10x faster than the default strategy and smaller on smooth flow
        params = [cv2.IMWRITE_PNG_COMPRESSION, 1, cv2.IMWRITE_PNG_STRATEGY, cv2.IMWRITE_PNG_STRATEGY_RLE]
        ok, buf = cv2.imencode(".png", stacked, params)
        if not ok:
            raise CodecError("PNG encoding failed")
        return buf.tobytes()

    def decode_flow(self, data: bytes | np.ndarray) -> np.ndarray:
        """Decode to float32 flow (2, H, W) in pixels of the stored frame size."""
        codes = _imdecode(data, cv2.IMREAD_UNCHANGED)
        if codes is None or codes.dtype != np.uint16 or codes.shape != (2 * self.height, self.width):
            raise CodecError(f"flow bytes do not decode to a 2x{self.height}x{self.width} flow")
        flow = (codes.astype(np.float32) - FLOW_ZERO) * np.float32(self.flow_step)
        return flow.reshape(2, self.height, self.width)
