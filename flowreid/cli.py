"""What the two command lines (``flowprep``, ``reid``) share: sub-commands imported on first use,
and every user-facing error reported as one line with exit status 2."""

from __future__ import annotations

import importlib
import os
import sys

import click

from flowreid.errors import Interrupted, UserError
from flowreid.registry import Registry


class LazyGroup(click.Group):
    """Imports a sub-command's module only when that sub-command runs, so ``--help`` stays fast."""

    def __init__(self, *args, modules: dict[str, str], package: str, **kwargs):
        super().__init__(*args, **kwargs)
        self._modules = modules
        self._package = package

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(self._modules)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self._modules:
            return None
        module = importlib.import_module(f"{self._package}.{self._modules[name]}")
        return module.command


class RegistryChoice(click.Choice):
    """A choice among a registry's names (after ``first``), read when help is shown or a value is
    checked, not when the command module is imported: start-up stays cheap, and a name registered
    later is listed and accepted."""

    def __init__(self, registry: Registry, first: tuple[str, ...] = ()):
        self.registry = registry
        self.first = first
        self.case_sensitive = True

    @property
    def choices(self) -> tuple[str, ...]:
        return (*self.first, *self.registry.names())


def _one_line(message: str) -> str:
    return " ".join(message.split("\n"))  # one line, even when a file name holds a newline


def run_group(group: click.Group, prog_name: str) -> None:
    """Run a click group, turning user-facing errors (``UserError`` of either stage, click's usage
    errors, the system's refusals) into one line on stderr and exit code 2."""
    try:
        group.main(prog_name=prog_name, standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.UsageError as exc:  # a bad flag or value: one line too, not click's usage block
        hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
        click.echo(f"{prog_name}: error: {_one_line(exc.format_message())}{hint}", err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except UserError as exc:
        click.echo(f"{prog_name}: error: {_one_line(str(exc))}", err=True)
        sys.exit(2)
    except OSError as exc:  # the system refused (permissions, a full disk, a vanished mount): say where and why
        if os.environ.get("FLOWREID_TRACEBACK"):
            raise
        where = f"{os.fsdecode(exc.filename)}: " if exc.filename else ""
        click.echo(f"{prog_name}: error: {_one_line(where + (exc.strerror or str(exc)))} "
                   "(FLOWREID_TRACEBACK=1 shows where)", err=True)
        sys.exit(2)
    except Interrupted as exc:
        click.echo(f"{prog_name}: {_one_line(str(exc))}", err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
