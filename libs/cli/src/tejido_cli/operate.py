"""Operator commands for the event backbone: ``tejido outbox list|retry``, ``tejido deadletter
list|replay|purge``, ``tejido streams provision``. They talk to each service's database and to NATS
directly (as `tejido migrate` does), so they work whether or not the services are running."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Annotated

import nats
import typer
from rich.console import Console
from rich.markup import escape

from tejido_cli.config import SERVICES, Component, LauncherConfig, load_config
from tejido_cli.launcher import describe_outcome, operator_credentials, read_state, run_provisioning
from tejido_common.db import Database
from tejido_common.deadletters import list_dead_letters, purge_dead_letters, replay_dead_letters
from tejido_common.outbox import list_parked, outbox_stats, retry_parked

outbox_app = typer.Typer(help="Parked outbox rows: events a service could not publish.", no_args_is_help=True)
deadletter_app = typer.Typer(help="Dead letters: events a consumer gave up on.", no_args_is_help=True)
streams_app = typer.Typer(
    help="JetStream streams: only the operator creates and changes them.", no_args_is_help=True
)
out = Console(soft_wrap=True, highlight=False)
err = Console(stderr=True, soft_wrap=True, highlight=False)

ServiceOption = Annotated[str | None, typer.Option("--service", help="one service (default: all)")]


def _services(name: str | None) -> list[Component]:
    if name is None:
        return list(SERVICES)
    chosen = [s for s in SERVICES if s.name == name]
    if not chosen:
        known = ", ".join(s.name for s in SERVICES)
        err.print(f"[bold red]error:[/] unknown service {escape(name)!r}; one of {known}")
        raise typer.Exit(2)
    return chosen


@outbox_app.command("list")
def outbox_list(service: ServiceOption = None) -> None:
    """Parked rows per service (and how many later rows of their aggregates wait behind them)."""
    cfg = load_config()
    # One line per row, never a wrapped table: operators copy the ids into `tejido outbox retry`.
    totals: list[str] = []
    for component in _services(service):
        settings = cfg.component_settings(component)
        db = Database(settings.resolved_database_url(), settings.resolved_schema())
        try:
            stats = outbox_stats(db, settings.outbox_park_after)
            for row in list_parked(db, settings.outbox_park_after):
                out.print(
                    f"{component.name} {row.id} {row.subject} aggregate={escape(row.aggregate_id)} "
                    f"attempts={row.attempts} error={escape((row.last_error or '')[:200])}"
                )
        except Exception as exc:
            totals.append(f"{component.name}: cannot read its outbox ({type(exc).__name__})")
            continue
        finally:
            db.dispose()
        totals.append(
            f"{component.name}: {stats.pending} pending, {stats.parked} parked, {stats.held} held behind them"
        )
    for line in totals:
        out.print(escape(line))


@outbox_app.command("retry")
def outbox_retry(
    ids: Annotated[list[str] | None, typer.Argument(help="event ids (default: every parked row)")] = None,
    service: ServiceOption = None,
) -> None:
    """Put parked rows back in line; the service's relay publishes them (and the rows held behind them)."""
    cfg = load_config()
    for component in _services(service):
        settings = cfg.component_settings(component)
        db = Database(settings.resolved_database_url(), settings.resolved_schema())
        try:
            count = retry_parked(db, settings.outbox_park_after, ids or [])
        finally:
            db.dispose()
        out.print(f"{component.name}: {count} row(s) re-queued")


def _nats_url(cfg: LauncherConfig) -> str:
    state = read_state(cfg)
    url = (state or {}).get("nats_url") or cfg.nats_url
    if not url and cfg.nats_port:
        url = f"nats://{cfg.client_host}:{cfg.nats_port}"
    if not url:
        err.print("[bold red]error:[/] NATS URL unknown: run `tejido up` here, or set TEJIDO_NATS_URL")
        raise typer.Exit(2)
    return str(url)


async def _with_js(
    url: str,
    action: str,
    consumer: str | None,
    seqs: Sequence[int],
    credentials: dict[str, str] | None = None,
) -> None:
    # The embedded NATS requires users: the launcher's operations user (none with an open server).
    nc = await nats.connect(url, connect_timeout=5, max_reconnect_attempts=1, **(credentials or {}))
    try:
        js = nc.jetstream(timeout=10)
        if action == "list":
            letters = await list_dead_letters(js, consumer)
            for dl in letters:
                out.print(
                    f"seq={dl.seq} consumer={dl.consumer} {dl.original_subject} event={dl.event_id or '-'} "
                    f"reason={dl.reason} deliveries={dl.deliveries} error={escape(dl.error[:200])}"
                )
            out.print(f"{len(letters)} dead letter(s)")
        elif action == "replay":
            out.print(f"{await replay_dead_letters(js, consumer, seqs)} dead letter(s) replayed")
        else:
            out.print(f"{await purge_dead_letters(js, consumer)} dead letter(s) purged")
    finally:
        await nc.close()


ConsumerOption = Annotated[str | None, typer.Option("--consumer", help="one consumer (default: all)")]


@deadletter_app.command("list")
def deadletter_list(consumer: ConsumerOption = None) -> None:
    """Every dead letter: which consumer gave up, on which event, why."""
    cfg = load_config()
    asyncio.run(_with_js(_nats_url(cfg), "list", consumer, (), operator_credentials(cfg)))


@deadletter_app.command("replay")
def deadletter_replay(
    seqs: Annotated[
        list[int] | None, typer.Argument(help="dead-letter sequence numbers (default: all)")
    ] = None,
    consumer: ConsumerOption = None,
) -> None:
    """Re-publish dead letters to their original subject; the consumer that failed applies them, the
    others skip them as already processed."""
    if not seqs and consumer is None:
        err.print("[bold red]error:[/] name --consumer, or the sequence numbers to replay")
        raise typer.Exit(2)
    cfg = load_config()
    asyncio.run(_with_js(_nats_url(cfg), "replay", consumer, seqs or (), operator_credentials(cfg)))


@deadletter_app.command("purge")
def deadletter_purge(
    consumer: ConsumerOption = None,
    yes: Annotated[bool, typer.Option("--yes", help="really delete them")] = False,
) -> None:
    """Delete dead letters for good (all, or one consumer's)."""
    if not yes:
        err.print("[bold red]error:[/] purging deletes events for good; add --yes")
        raise typer.Exit(2)
    cfg = load_config()
    asyncio.run(_with_js(_nats_url(cfg), "purge", consumer, (), operator_credentials(cfg)))


@streams_app.command("provision")
def streams_provision(
    wait: Annotated[
        float, typer.Option("--wait", min=0, help="seconds to keep retrying while NATS is starting")
    ] = 60.0,
) -> None:
    """Create every stream (each producing service's and the dead letters) and bring existing ones up
    to each service's TEJIDO_<SERVICE>_STREAM_* settings. Runs as TEJIDO_NATS_USER (default: the
    `operator` of `tejido up`): service users may not create or change streams."""
    cfg = load_config()
    url = _nats_url(cfg)
    try:
        outcomes = run_provisioning(cfg, url, operator_credentials(cfg), wait)
    except Exception as exc:
        err.print(
            f"[bold red]error:[/] streams not provisioned on {escape(url)}: {escape(str(exc) or repr(exc))}"
        )
        raise typer.Exit(1) from None
    for outcome in outcomes:
        line = escape(describe_outcome(outcome))
        if outcome.action == "not-applied":
            # The stream works as it is; services warn that it differs from their settings.
            err.print(f"[yellow]warning:[/] {line}")
        else:
            out.print(line)
