"""The one base of every error that a command line reports as one line, without a traceback."""


class UserError(Exception):
    """A problem with the user's input or environment, explained in one line.

    ``flowprep``'s and ``reid``'s errors are siblings under this class, so each command line
    catches what either stage raises without one stage's errors depending on the other's.
    """
