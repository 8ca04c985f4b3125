"""Errors of the reid stage that the command line reports as one line."""

from flowprep.errors import FlowprepError


class ReidError(FlowprepError):
    """A user-facing problem in training, evaluation or model loading."""


class CheckpointError(ReidError):
    """A checkpoint is missing, damaged, unsafe, or was made for another model."""
