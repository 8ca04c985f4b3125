"""Errors of the flowprep stage that the command line reports as one line, without a traceback."""

from flowreid.errors import UserError


class FlowprepError(UserError):
    """A problem with the user's input or environment, explained in one line."""


class DatasetError(FlowprepError):
    """A dataset directory or its metadata does not match the official layout."""


class StoreError(FlowprepError):
    """An HDF5 store is missing, damaged, or of a schema this version does not know."""
