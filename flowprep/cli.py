"""The ``flowprep`` command line: one click group, one module per sub-command."""

from __future__ import annotations

import click

from flowreid import __version__
from flowreid.cli import LazyGroup, run_group

# sub-command name -> module in flowprep.commands defining a click command called ``command``
COMMANDS = {
    "synth": "synth",
    "extract": "extract",
    "merge": "merge",
    "inspect": "inspect_store",
    "verify": "verify",
    "show": "show",
}


@click.group(cls=LazyGroup, modules=COMMANDS, package="flowprep.commands")
@click.version_option(__version__, prog_name="flowprep")
def cli() -> None:
    """Prepare video ReID datasets: synthesise, extract optical flow, inspect stores."""


def main() -> None:
    run_group(cli, "flowprep")


if __name__ == "__main__":
    main()
