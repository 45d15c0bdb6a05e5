"""Observation events. Systems that already publish to NATS (a partner's data pipeline, another service)
submit observations as ``reporting.observation.submitted.v1``; the payload is the same document as
``POST /v1/observations`` and the same revision rules apply, so a replayed event is counted once."""

from __future__ import annotations

from tejido_common.event_contracts import EventContract
from tejido_reporting.observations.schemas import ObservationIn

OBSERVATION_SUBMITTED = EventContract(
    "reporting.observation.submitted.v1",
    ObservationIn,
    "An organization's observation of an indicator (one revision of it), submitted over the bus.",
)
CONTRACTS = [OBSERVATION_SUBMITTED]
