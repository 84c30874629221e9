"""The typer application: the commands, `main()`, and the one place errors become exit codes.

Exit codes (the contract): 0 success; 1 a check found a mismatch (`symgrad check`);
2 bad input or usage, with one line on stderr that says what to fix. An unexpected error
(a bug) exits 3 with one line too. `--debug` adds the traceback; nothing else changes.
"""

from __future__ import annotations

import sys
import traceback
from typing import Annotated, Any, NoReturn

import typer
from typer.core import TyperGroup

import symgrad as sg

from . import codegen, derive, docs, evaluate, render, verify
from .options import DEBUG_KEY, DebugOpt

__all__ = ["app", "main"]

# click's UsageError and ClickException, found through the public BadParameter so that this
# works whether typer vendors click (0.29+) or depends on it.
_UsageError: type[Exception] = typer.BadParameter.__mro__[1]
_ClickException: type[Exception] = _UsageError.__mro__[1]

USAGE = 2
INTERNAL = 3


def _fail(ctx: typer.Context, exc: Exception) -> NoReturn:
    """Map an exception to a one-line message and an exit code; the only place that does."""
    if ctx.meta.get(DEBUG_KEY):
        traceback.print_exception(exc, file=sys.stderr)
    if isinstance(exc, _UsageError):
        where = getattr(exc, "ctx", None)
        hint = f" (see '{where.command_path} --help')" if where is not None else ""
        render.error(f"{exc.format_message()}{hint}")
        code = USAGE
    elif isinstance(exc, _ClickException):
        render.error(exc.format_message())
        code = getattr(exc, "exit_code", 1)
    elif isinstance(exc, sg.SymgradError | ValueError | TypeError):
        render.error(str(exc))
        code = USAGE
    else:
        render.error(
            f"internal error: {type(exc).__name__}: {exc} "
            "(a bug in symgrad; rerun with --debug for the traceback and report it)"
        )
        code = INTERNAL
    raise typer.Exit(code)


class _Group(TyperGroup):
    """The root group: runs the chosen command and routes every failure through `_fail`."""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
        if not args:  # no_args_is_help: typer shows the help itself
            return super().parse_args(ctx, args)
        try:
            return super().parse_args(ctx, args)
        except _UsageError as exc:  # a bad option before the command, e.g. `symgrad --bogus`
            _fail(ctx, exc)

    def invoke(self, ctx: typer.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, BrokenPipeError):
            raise  # typer's own ways out (and a closed pipe, which typer handles)
        except Exception as exc:  # every failure, mapped in one place
            _fail(ctx, exc)


app = typer.Typer(
    name="symgrad",
    cls=_Group,
    epilog="Run 'symgrad COMMAND --help' for a command's options and examples. "
    "Exit codes: 0 ok, 1 a check found a mismatch, 2 bad input, 3 internal error.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _show_version(value: bool) -> None:
    if value:
        render.version(sg.__version__)
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Show the version and exit.", callback=_show_version, is_eager=True
        ),
    ] = False,
    debug: DebugOpt = False,
) -> None:
    """Exact derivatives for PyTorch: closed forms from sympy, compiled to torch, checked
    against torch.autograd.
    """


app.command("diff", epilog=derive.EXAMPLES["diff"])(derive.diff)
app.command("grad", epilog=derive.EXAMPLES["grad"])(derive.grad)
app.command("jacobian", epilog=derive.EXAMPLES["jacobian"])(derive.jacobian)
app.command("hessian", epilog=derive.EXAMPLES["hessian"])(derive.hessian)
app.command("eval", epilog=evaluate.EXAMPLES)(evaluate.eval_command)
app.command("check", epilog=verify.EXAMPLES)(verify.check)
app.command("codegen", epilog=codegen.EXAMPLES)(codegen.codegen)
app.command("docs", epilog=docs.EXAMPLES)(docs.docs)


def main() -> None:
    """Console-script entry point (`symgrad`, `python -m symgrad`)."""
    app(prog_name="symgrad")
