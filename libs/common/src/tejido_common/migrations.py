"""Alembic, driven from code: every service keeps its own migrations and applies them at start-up.

A service's ``migrations/env.py`` only calls :func:`run_env`; :func:`upgrade` is what start-up and
``tejido migrate`` call.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import sqlalchemy as sa
from alembic import command, context, op
from alembic.config import Config
from sqlalchemy import text

from tejido_common.db import Database


def upgrade(db: Database, migrations_dir: Path, revision: str = "head") -> None:
    """Apply migrations; on PostgreSQL, replicas starting together serialize on an advisory lock."""
    db.ensure_schema()
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir))
    with db.engine.connect() as conn:
        if not db.sqlite:
            key = zlib.crc32(f"tejido-migrate:{db.schema}".encode())
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
            conn.commit()
        try:
            cfg.attributes["connection"] = conn
            cfg.attributes["schema"] = db.schema
            command.upgrade(cfg, revision)
            conn.commit()
        finally:
            if not db.sqlite:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                conn.commit()


def run_env() -> None:
    """Body of every service's Alembic ``env.py`` (online mode only: we always have a connection)."""
    config = context.config
    connection = config.attributes["connection"]
    schema = config.attributes.get("schema")
    context.configure(
        connection=connection,
        target_metadata=None,
        version_table_schema=schema,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def create_messaging_tables() -> None:
    """Outbox and processed-event tables, created by every service's first migration."""
    op.create_table(
        "outbox",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(36), nullable=False, unique=True),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("aggregate_id", sa.String(64), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text, nullable=True),
    )
    op.create_index("ix_outbox_pending", "outbox", ["published_at", "seq"])
    op.create_table(
        "processed_events",
        sa.Column("consumer", sa.String(100), primary_key=True),
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
    )
