"""Consumer of submitted observation events (same rules as the API)."""

from __future__ import annotations

from sqlmodel import Session

from tejido_common.consumer import ConsumerSpec, PoisonMessage
from tejido_common.events import Envelope
from tejido_reporting.observations.events import OBSERVATION_SUBMITTED
from tejido_reporting.observations.service import Refusal, ingest


def apply_submitted(session: Session, event: Envelope) -> None:
    result = ingest(session, [event.data], "event")[0]
    if isinstance(result, Refusal):
        # Invalid content will not become valid by retrying: dead-letter it at once, with the reasons.
        raise PoisonMessage("; ".join(f"{f}: {r}" for f, r in result.problems[:5]))


def consumer_spec() -> ConsumerSpec:
    return ConsumerSpec(
        name="reporting-observations",
        stream="REPORTING",
        filter_subject=OBSERVATION_SUBMITTED.type,
        handlers={OBSERVATION_SUBMITTED.type: apply_submitted},
    )
