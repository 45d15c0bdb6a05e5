"""How the API reaches the workers: NATS request/reply to the queue group, retried on a lost worker."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import nats.errors

from tejido_common.broker import Broker
from tejido_common.problems import DomainError


class RankingUnavailable(DomainError):
    status, code, title = 503, "ranking-unavailable", "No matching worker answered"


class RankingClient:
    def __init__(self, broker: Broker, subject: str, timeout: float):
        self.broker, self.subject, self.timeout = broker, subject, timeout

    async def rank(self, request: dict[str, Any]) -> dict[str, Any]:
        """Ranking is read-only, so a request a worker dropped (killed mid-way) is simply sent again;
        each attempt waits at most a third of the budget, and no responders are retried shortly."""
        deadline = time.monotonic() + self.timeout
        payload = json.dumps(request).encode()
        attempt_timeout = max(self.timeout / 3, 0.5)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RankingUnavailable("no matching worker answered in time; try again")
            nc = self.broker.nc
            if nc is None or not self.broker.connected:
                await asyncio.sleep(min(0.1, left))
                continue
            try:
                msg = await nc.request(self.subject, payload, timeout=min(attempt_timeout, left))
            except nats.errors.NoRespondersError:
                await asyncio.sleep(min(0.1, max(left, 0)))
                continue
            except nats.errors.TimeoutError:
                continue
            answer: dict[str, Any] = json.loads(msg.data)
            return answer
