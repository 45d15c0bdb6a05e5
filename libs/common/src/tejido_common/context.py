"""Request-scoped context: the correlation id that flows from HTTP into events and logs."""

from __future__ import annotations

from contextvars import ContextVar

import structlog

correlation_id_var: ContextVar[str | None] = ContextVar("correlation_id", default=None)
actor_var: ContextVar[str | None] = ContextVar("actor", default=None)


def current_correlation_id() -> str | None:
    return correlation_id_var.get()


def bind_correlation_id(value: str | None) -> None:
    correlation_id_var.set(value)
    structlog.contextvars.bind_contextvars(correlation_id=value)


def current_actor() -> str | None:
    return actor_var.get()
