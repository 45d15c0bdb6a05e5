"""Who is acting: the identity the gateway vouches for (``tejido_common.context.current_actor``)."""

from __future__ import annotations

from datetime import UTC, datetime

from tejido_common.context import current_actor

ANONYMOUS = "anonymous"


def actor() -> str:
    """The caller's identity, or ``anonymous`` until authentication sets one."""
    return current_actor() or ANONYMOUS


def utcnow() -> datetime:
    return datetime.now(UTC)
