"""Errors of the reid stage that the command line reports as one line."""

from flowreid.errors import UserError


class ReidError(UserError):
    """A user-facing problem in training, evaluation or model loading (a sibling of ``FlowprepError``)."""


class CheckpointError(ReidError):
    """A checkpoint is missing, damaged, unsafe, or was made for another model."""
