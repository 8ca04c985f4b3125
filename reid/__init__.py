"""reid: flow-guided Mutual Attention networks for video person re-identification."""

from flowprep import __version__

__all__ = ["__version__"]
