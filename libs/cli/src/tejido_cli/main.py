"""The ``tejido`` command. Configuration comes from ``TEJIDO_*`` variables (see ``tejido_cli.config``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

from tejido_cli.config import GATEWAY, LauncherConfig
from tejido_cli.importer import ImportFailed, import_file, print_report
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
def up(
    matching_workers: Annotated[
        int | None,
        typer.Option(
            min=0, max=64, help="separate matching worker processes (default 0: ranking in the API)"
        ),
    ] = None,
) -> None:
    """Start NATS, every service and the gateway; load the demo data once; Ctrl-C stops everything."""
    cfg = load_config()
    if matching_workers is not None:
        cfg.matching_workers = matching_workers
    raise typer.Exit(Launcher(cfg).run())


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


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="a .csv or .jsonl file of organizations")],
    url: Annotated[str | None, typer.Option(help="gateway URL (default: the one `tejido up` serves)")] = None,
    format: Annotated[str | None, typer.Option(help="csv or jsonl (default: from the file name)")] = None,
    allow_duplicates: Annotated[
        bool, typer.Option(help="also import rows that look like duplicates")
    ] = False,
    report: Annotated[Path | None, typer.Option(help="write the full JSON report to this file")] = None,
) -> None:
    """Bulk-import organizations (upsert by identifier) with a progress bar.

    Exit code 3 when some rows were not imported (the report lists each one)."""
    console = Console(soft_wrap=True, highlight=False)
    base_url = url or load_config().url_of(GATEWAY)
    try:
        result = import_file(file, base_url, fmt=format, allow_duplicates=allow_duplicates, console=console)
    except ImportFailed as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}")
        raise typer.Exit(1) from None
    print_report(result, console, report)
    if result.get("failed"):
        raise typer.Exit(3)
