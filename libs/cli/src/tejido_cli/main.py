"""The ``tejido`` command. Configuration comes from ``TEJIDO_*`` variables (see ``tejido_cli.config``)."""

from __future__ import annotations

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

from tejido_cli.config import LauncherConfig
from tejido_cli.launcher import Launcher, LaunchError, migrate_all
from tejido_cli.launcher import status as show_status

# Tracebacks with locals could print a database URL with its password.
app = typer.Typer(
    name="tejido",
    help="Run and operate the Tejido platform.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
err = Console(stderr=True, soft_wrap=True, highlight=False)


def load_config() -> LauncherConfig:
    try:
        return LauncherConfig()
    except ValidationError as exc:
        for error in exc.errors():
            variable = "TEJIDO_" + "_".join(str(part) for part in error["loc"]).upper()
            err.print(f"[bold red]error:[/] {variable}: {escape(error['msg'])}")
        raise typer.Exit(2) from None


@app.command()
def up() -> None:
    """Start NATS, every service and the gateway; load the demo data once; Ctrl-C stops everything."""
    raise typer.Exit(Launcher(load_config()).run())


@app.command()
def migrate() -> None:
    """Apply every service's database migrations (SQLite files, or one PostgreSQL schema per service)."""
    console = Console(soft_wrap=True, highlight=False)
    try:
        migrate_all(load_config(), console)
    except LaunchError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}")
        raise typer.Exit(1) from None


@app.command()
def status() -> None:
    """Show each component's /readyz (exit code 1 unless all are ready)."""
    if not show_status(load_config(), Console()):
        raise typer.Exit(1)


# `tejido import FILE` (bulk import through the gateway) is a separate issue and lands here.
