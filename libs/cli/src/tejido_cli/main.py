"""The ``tejido`` command. Configuration comes from ``TEJIDO_*`` variables (see ``tejido_cli.config``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from tejido_cli.config import GATEWAY, load_config
from tejido_cli.importer import ImportFailed, import_file, print_report
from tejido_cli.keys import key_service
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


def _register_operator_commands() -> None:
    from tejido_cli.operate import deadletter_app, outbox_app, streams_app

    app.add_typer(outbox_app, name="outbox")
    app.add_typer(deadletter_app, name="deadletter")
    app.add_typer(streams_app, name="streams")


keys_app = typer.Typer(help="Manage API keys (in the gateway's database).", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Option(help="what the key is for, e.g. the integration's name")],
    role: Annotated[str, typer.Option(help="admin, operator, org_editor, reviewer or funder")],
    organization: Annotated[
        list[str] | None, typer.Option(help="organization id an org_editor key may act for (repeat)")
    ] = None,
) -> None:
    """Create an API key and print it once (only a digest is stored)."""
    from tejido_common.problems import DomainError

    try:
        with key_service(load_config()) as keys:
            created = keys.create(name, role, organization or [], created_by="cli")
    except DomainError as exc:
        reasons = "; ".join(f"{e.field}: {e.reason}" for e in exc.errors or [])
        err.print(
            f"[bold red]error:[/] {escape(exc.detail)}{escape(' (' + reasons + ')') if reasons else ''}"
        )
        raise typer.Exit(2) from None
    err.print(f"created key {created.row.id} ({escape(role)}, {escape(name)}); it is shown only now:")
    # The key alone on stdout, so `KEY=$(tejido keys create …)` works.
    typer.echo(created.key)


@keys_app.command("list")
def keys_list() -> None:
    """List API keys, tab-separated (never their secrets)."""
    typer.echo("id\trole\tname\torganizations\tcreated\tlast_used\trevoked")
    with key_service(load_config()) as keys:
        for row in keys.list():
            when = [row.created_at, row.last_used_at, row.revoked_at]
            cells = [row.id, row.role, row.name, ",".join(row.organizations)]
            cells += [w.isoformat(timespec="seconds") if w else "-" for w in when]
            typer.echo("\t".join(cells))


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="the key's id, e.g. k_3f9a01b2c4d5")]) -> None:
    """Revoke an API key."""
    from tejido_common.problems import DomainError

    try:
        with key_service(load_config()) as keys:
            keys.revoke(key_id)
    except DomainError as exc:
        err.print(f"[bold red]error:[/] {escape(exc.detail)}")
        raise typer.Exit(1) from None
    err.print(f"revoked {escape(key_id)}")


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
    key: Annotated[
        str | None,
        typer.Option(envvar="TEJIDO_API_KEY", help="API key (default: the demo admin key of `tejido up`)"),
    ] = None,
) -> None:
    """Bulk-import organizations (upsert by identifier) with a progress bar.

    Exit code 3 when some rows were not imported (the report lists each one)."""
    console = Console(soft_wrap=True, highlight=False)
    cfg = load_config()
    base_url = url or cfg.url_of(GATEWAY)
    if key is None and cfg.demo_key_file.exists():
        key = cfg.demo_key_file.read_text().strip()
    try:
        result = import_file(
            file, base_url, fmt=format, allow_duplicates=allow_duplicates, console=console, api_key=key
        )
    except ImportFailed as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}")
        raise typer.Exit(1) from None
    print_report(result, console, report)
    if result.get("failed"):
        raise typer.Exit(3)


_register_operator_commands()
