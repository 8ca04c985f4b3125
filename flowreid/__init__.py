"""flowreid: the few pieces both stages share, and nothing else.

``flowprep`` (dataset -> frames -> flow -> store) and ``reid`` (store -> model -> metrics) meet
at the store; what both need besides it lives here: the version, the error base the command
lines report in one line (``errors``), the command-line plumbing (``cli``, ``options``,
``outputs``), the flow colour wheel of pictures and model input (``flowcolor``), the weight-file
lookup (``weights``), the evaluation protocols (``protocols``), registries (``registry``),
whole-or-nothing file writes (``atomic``) and the kill points the crash tests use
(``killpoints``). This package imports neither stage (docs/architecture.md).
"""

__version__ = "0.1.0"
