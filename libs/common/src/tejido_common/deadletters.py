"""Operating the dead letters (``tejido deadletter list|replay|purge``).

A dead letter is a copy of the event a consumer gave up on, on ``deadletter.<consumer>.<type>`` in the
``DEADLETTER`` stream, with headers saying why. *Replay* re-publishes the event on its original subject
(a fresh ``Nats-Msg-Id``, so JetStream does not drop it as a duplicate) and deletes the dead letter: the
consumer that failed applies it, every other consumer skips it as already processed (their processed
ids make replay idempotent).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass

import nats.js.errors
from nats.js import JetStreamContext

from tejido_common.broker import DEAD_LETTER_STREAM
from tejido_common.events import DEAD_LETTER_PREFIX, Envelope


@dataclass
class DeadLetter:
    seq: int
    consumer: str
    original_subject: str
    reason: str
    error: str
    deliveries: str
    event_id: str | None
    data: bytes


def _filter(consumer: str | None) -> str:
    return f"{DEAD_LETTER_PREFIX}.{consumer}.>" if consumer else f"{DEAD_LETTER_PREFIX}.>"


async def list_dead_letters(
    js: JetStreamContext, consumer: str | None = None, limit: int = 1000
) -> list[DeadLetter]:
    found: list[DeadLetter] = []
    seq = 0
    while len(found) < limit:
        try:
            msg = await js.get_msg(DEAD_LETTER_STREAM.name, seq=seq + 1, subject=_filter(consumer), next=True)
        except nats.js.errors.NotFoundError:
            break
        seq = msg.seq or seq + 1
        headers = msg.headers or {}
        subject = msg.subject or ""
        event_id = None
        with contextlib.suppress(Exception):
            event_id = Envelope.from_bytes(msg.data or b"").id
        found.append(
            DeadLetter(
                seq=seq,
                consumer=headers.get("Tejido-Consumer") or subject.split(".")[1],
                original_subject=headers.get("Tejido-Original-Subject") or subject.split(".", 2)[2],
                reason=headers.get("Tejido-Reason", "retries-exhausted"),
                error=headers.get("Tejido-Error", ""),
                deliveries=headers.get("Tejido-Deliveries", ""),
                event_id=event_id,
                data=msg.data or b"",
            )
        )
    return found


async def replay_dead_letters(
    js: JetStreamContext, consumer: str | None = None, seqs: Sequence[int] = ()
) -> int:
    """Re-publish dead letters (all of ``consumer``'s, or those sequences) and delete them."""
    replayed = 0
    for letter in await list_dead_letters(js, consumer):
        if seqs and letter.seq not in seqs:
            continue
        await js.publish(
            letter.original_subject,
            letter.data,
            headers={"Nats-Msg-Id": f"replay-{letter.seq}-{letter.event_id or 'raw'}"},
        )
        await js.delete_msg(DEAD_LETTER_STREAM.name, letter.seq)
        replayed += 1
    return replayed


async def purge_dead_letters(js: JetStreamContext, consumer: str | None = None) -> int:
    """Delete dead letters for good (all, or one consumer's); returns how many were there."""
    count = len(await list_dead_letters(js, consumer, limit=1_000_000))
    await js.purge_stream(DEAD_LETTER_STREAM.name, subject=_filter(consumer))
    return count
