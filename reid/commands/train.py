"""``reid train``: train a model on a flowprep store. Its options are ``reid.settings.TRAIN_SETTINGS``."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import click

from flowreid.errors import Interrupted
from flowreid.wording import counted
from reid.settings import TRAIN_SETTINGS, Setting, SettingError

_METAVARS = {int: "INTEGER", float: "NUMBER", str: "TEXT", tuple: "N,N,..."}


class SettingType(click.ParamType):
    """A click type that converts and checks through the setting, so flags and config files agree."""

    def __init__(self, setting: Setting):
        self.setting = setting
        self.name = setting.name

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        allowed = self.setting.allowed()
        if allowed:
            return "[" + "|".join(map(str, allowed)) + "]"
        return "PATH" if self.setting.path else _METAVARS[self.setting.kind]

    def convert(self, value, param, ctx):
        if not isinstance(value, str):
            return value
        try:
            return self.setting.from_text(value)
        except SettingError as exc:
            self.fail(str(exc), param, ctx)


def _option(setting: Setting):
    """The click option of one setting; its default is None so that only what the user gave overrides."""
    default = setting.default
    shown = ",".join(map(str, default)) if isinstance(default, tuple) else default
    help_text = setting.help if default is None else f"{setting.help}  [default: {shown}]"
    if setting.kind is bool:
        name = setting.name.replace("_", "-")
        return click.option(f"--{name}/--no-{name}", setting.name, default=None, help=help_text)
    return click.option(setting.flag, setting.name, type=SettingType(setting), default=None, help=help_text)


def setting_options(command):
    for setting in reversed(TRAIN_SETTINGS):
        command = _option(setting)(command)
    return command


class RecordedCommand(click.Command):
    """Keeps the arguments as typed, for the run record's command line."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["argv"] = list(args)
        return super().parse_args(ctx, args)


@click.command("train", cls=RecordedCommand)
@click.option("--config", "config_file", type=click.Path(path_type=Path), default=None,
              help="YAML file of settings (keys: the option names with _); flags override it.")
@click.option("--resume", is_flag=True, help="Continue the run in --out from its last checkpoint, with its settings.")
@setting_options
def command(config_file, resume, **values) -> None:
    """Train a video ReID model; the run folder gets config.yaml (the run record), checkpoints last.pt
    and best.pt, metrics.csv, train.log and TensorBoard events.

    Settings come from the defaults, then --config FILE, then the flags. With --resume, the run in
    --out continues with its recorded settings; only --epochs (to extend it) and placement options
    (--workers, --device, --quiet, --log-every, --eval-every) may differ.
    """
    from reid.config import train_config
    from reid.engine.trainer import Trainer

    explicit = {key: value for key, value in values.items() if value is not None}
    cfg = train_config(explicit, config_file, resume)
    argv = click.get_current_context().meta.get("argv", sys.argv[1:])
    trainer = Trainer(cfg, resume=resume, command=shlex.join(["reid", "train", *argv]))
    try:
        evaluation = trainer.run()
    except KeyboardInterrupt:
        if not trainer.ctx.is_main:
            raise
        if not (trainer.out / "last.pt").exists():
            raise Interrupted(f"interrupted before the first epoch ended; {trainer.out} holds no checkpoint yet") from None
        raise Interrupted(f"interrupted; {trainer.out / 'last.pt'} holds the last finished epoch: continue with "
                          f"reid train --out {shlex.quote(str(trainer.out))} --resume") from None
    if trainer.ctx.is_main:
        click.echo(f"{trainer.out}: trained {counted(trainer.cfg.epochs, 'epoch')}; checkpoints last.pt and best.pt")
        if evaluation is not None:
            from reid.report import format_table

            click.echo(format_table(evaluation))
