"""The ``mmrl`` command: the root Typer app, global options and the command groups."""
from __future__ import annotations

import errno
import importlib
import importlib.util
import sys
from typing import Optional

import typer
from typer.core import TyperGroup

from mmrl import __version__
from mmrl.errors import MmrlError
from mmrl_cli.recipes import allow_plugins, apply_recipe


class MmrlGroup(TyperGroup):
    """Root group: turns mmrl's user-facing errors into a message on stderr and exit status 2."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        hide_flag_types(self)

    def invoke(self, ctx: typer.Context):
        try:
            return super().invoke(ctx)
        except MmrlError as e:
            _fail(e)
        except OSError as e:
            # the errors no check can foresee: the disk fills up, a file turns unreadable mid-run
            if e.errno not in _IO_ERRORS:
                raise
            from mmrl.io.atomic import cannot_write

            _fail(cannot_write(e.filename or "output", e) if e.errno in _FULL else MmrlError(
                f"{e.filename or 'a file'}: {e.strerror or e}"))
        except Exception as e:
            blame_recipe(e)
            raise


_FULL = (errno.ENOSPC, errno.EDQUOT)
_IO_ERRORS = (*_FULL, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO)


def _fail(e: MmrlError):
    from mmrl.console import console

    console.print(str(e), markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(e.exit_code) from None


def blame_recipe(e: Exception) -> None:
    """A bad value that came from the recipe, not from the command line, is reported as the
    recipe's: click's message names only the flag, which the user never typed."""
    param, ctx = getattr(e, "param", None), getattr(e, "ctx", None)
    recipe = ctx.meta.get("mmrl.recipe") if ctx is not None else None
    if param is None or recipe is None or not hasattr(e, "message"):
        return
    source = ctx.get_parameter_source(param.name)
    if getattr(source, "name", None) == "DEFAULT_MAP":
        section = ".".join(ctx.command_path.split()[1:] + [param.name])
        e.message = f"{e.message} (the value of {section} in the recipe {recipe})"


def hide_flag_types(command) -> None:
    """On/off flags take no value, so their help shows no value type (typer would print `<bool>`):
    every flag of every command, and the ``--help`` option click adds to each on demand."""
    for param in getattr(command, "params", []):
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""
    make_help = command.get_help_option

    def get_help_option(ctx):
        option = make_help(ctx)
        if option is not None and option.metavar is None:
            option.metavar = ""
        return option

    command.get_help_option = get_help_option
    for sub in getattr(command, "commands", {}).values():
        hide_flag_types(sub)


app = typer.Typer(
    name="mmrl",
    cls=MmrlGroup,
    help="RL for vision-language reasoning models on verifiable rewards. "
    "Subcommands compose through JSONL files ('-' is stdin/stdout).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mmrl {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    config: Optional[str] = typer.Option(
        None, "--config", help="YAML recipe: its sections set the defaults of each command; flags override."
    ),
    log_level: str = typer.Option("INFO", "--log-level", help="DEBUG, INFO, WARNING or ERROR (stderr)."),
    allow_verifier: list[str] = typer.Option(
        [], "--allow-verifier", metavar="FILE.py:FN", help="A user verifier (path/to/file.py:function or "
        "module:function) that data may name in reward.verifier or reward.params.answer_verifier, for every "
        "command; repeatable (a recipe: top-level allow_verifier: [...]). Data alone never loads code."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    from mmrl.console import setup_logging

    setup_logging(log_level)
    if config:
        recipe_ctx = ctx
        apply_recipe(recipe_ctx, config)
    allow_plugins(allow_verifier)


# Command modules under cli/, each exposing ``register(app)``. Listed here so the order of
# ``mmrl --help`` is stable; a module not present in this build is simply not offered.
COMMAND_MODULES = ("data", "model", "rollout", "reward", "grade", "warmup_sft", "eval", "grpo", "plot", "demo",
                   "recipe")


def _register_commands() -> None:
    for name in COMMAND_MODULES:
        module_name = f"mmrl_cli.{name}"
        if importlib.util.find_spec(module_name) is None:
            continue
        importlib.import_module(module_name).register(app)


_register_commands()


def main() -> None:
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
