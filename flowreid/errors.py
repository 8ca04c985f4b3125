"""The one base of every error that a command line reports as one line, without a traceback."""


class UserError(Exception):
    """A problem with the user's input or environment, explained in one line.

    ``flowprep``'s and ``reid``'s errors are siblings under this class, so each command line
    catches what either stage raises without one stage's errors depending on the other's.
    """


class Interrupted(Exception):
    """Ctrl-C stopped a command; the message says, in one line, what was kept and how to continue.

    Not a ``UserError``: the command line reports it with exit status 130, as a shell does an interrupt.
    """
