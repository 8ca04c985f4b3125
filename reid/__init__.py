"""reid: flow-guided Mutual Attention networks for video person re-identification.

The Python API (imported on first use, so the command line starts fast)::

    from reid import load_model, FeatureExtractor
    extractor = FeatureExtractor("runs/mars/best.pt", device="cpu")
    embedding = extractor("query_folder/")              # one tracklet -> (D,)
    gallery = extractor.store("mars.h5", role="gallery")  # (N, D)

``reid.metrics.evaluate`` turns a distance matrix into CMC and mAP.
"""

from flowreid import __version__

__all__ = ["FeatureExtractor", "__version__", "load_model"]


def __getattr__(name: str):
    if name in ("FeatureExtractor", "load_model"):
        from reid import api

        return getattr(api, name)
    raise AttributeError(f"module 'reid' has no attribute {name!r}")
