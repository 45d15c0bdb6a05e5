"""Rules of feedback: only organizations known to matching, one latest verdict per pair."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime

from tejido_common.db import Database
from tejido_common.ids import new_id
from tejido_common.problems import NotFound, field_error
from tejido_matching.candidates import repository as candidates
from tejido_matching.feedback import repository
from tejido_matching.feedback.models import Feedback
from tejido_matching.feedback.schemas import FeedbackIn, FeedbackOut, FeedbackStats


class FeedbackService:
    def __init__(self, db: Database):
        self.db = db

    def record(self, body: FeedbackIn) -> FeedbackOut:
        with self.db.session() as session:
            for field in ("requester_id", "candidate_id"):
                org = getattr(body, field)
                row = candidates.get_candidate(session, org)
                if row is None or row.profile is None:
                    raise NotFound(
                        f"no organization {org} known to matching",
                        errors=[field_error([field], "unknown organization")],
                    )
            fb = Feedback(
                id=new_id(),
                requester_id=body.requester_id,
                candidate_id=body.candidate_id,
                verdict=body.verdict,
                reason=body.reason,
                mode=body.mode,
                created_at=datetime.now(UTC),
            )
            repository.add(session, fb)
        return FeedbackOut.model_validate(fb, from_attributes=True)

    def stats(self, requester_id: str | None) -> FeedbackStats:
        with self.db.read_session() as session:
            latest = list(repository.latest_by_candidate(session, requester_id).values())
        by_mode: dict[str, Counter[str]] = defaultdict(Counter)
        for row in latest:
            by_mode[row.mode or "unknown"][row.verdict] += 1
        contacted = sum(1 for r in latest if r.verdict == "contacted")
        reasons = Counter((r.reason or "").strip().lower() for r in latest if r.verdict == "not_relevant")

        def rate(c: int, n: int) -> float | None:
            return round(c / n, 4) if n else None

        return FeedbackStats(
            requester_id=requester_id,
            marked=len(latest),
            contacted=contacted,
            not_relevant=len(latest) - contacted,
            acceptance_rate=rate(contacted, len(latest)),
            by_mode={
                m: {
                    "marked": sum(c.values()),
                    "contacted": c["contacted"],
                    "acceptance_rate": rate(c["contacted"], sum(c.values())),
                }
                for m, c in sorted(by_mode.items())
            },
            not_relevant_reasons=dict(reasons.most_common(20)),
        )
