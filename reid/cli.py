"""The ``reid`` command line: train, evaluate and the tools around trained models."""

from __future__ import annotations

import click

from flowreid import __version__
from flowreid.cli import LazyGroup, run_group

COMMANDS = {
    "train": "train",
    "evaluate": "evaluate",
    "visualize": "visualize",
    "export": "export",
    "search": "search",
}


@click.group(cls=LazyGroup, modules=COMMANDS, package="reid.commands")
@click.version_option(__version__, prog_name="reid")
def cli() -> None:
    """Train and evaluate flow-guided video person re-identification models."""


def main() -> None:
    run_group(cli, "reid")


if __name__ == "__main__":
    main()
