"""flowreid: the few pieces both stages share, and nothing else.

``flowprep`` (dataset -> frames -> flow -> store) and ``reid`` (store -> model -> metrics) meet
at the store; what both need besides it lives here: the version, the error base the command
lines report in one line, whole-or-nothing file writes, and the kill points the crash tests use.
This package imports neither stage.
"""

__version__ = "0.1.0"
