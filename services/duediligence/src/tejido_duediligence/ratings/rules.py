"""The scoring rules, pure (no database): HACT micro-assessment v2 and the PSEA core standards.

HACT (eTools ``calculate_risk``, questionnaire v2): each applicable question earns 1 point when the
answer is Low, else ``weight × value`` (Medium 2, Significant 3, High 4; key questions weigh double);
N/A makes a question non-applicable. With ``n`` applicable questions and ``P`` points the band is
Low if P < 1.45n, Medium if P < 1.9n, Significant if P < 2.5n, else High. PSEA: six core standards
rated 1–3, summed: ≤ 8 High risk, 9–14 Moderate, ≥ 15 Low.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel

from tejido_duediligence.frameworks.schemas import Framework

Band = Literal["low", "medium", "significant", "high"]
BANDS: tuple[Band, ...] = ("low", "medium", "significant", "high")
# Upper bounds of Low, Medium and Significant in hundredths of n (integers: no float edge errors).
HACT_EDGES_PCT: tuple[int, int, int] = (145, 190, 250)
PseaBand = Literal["low", "moderate", "high"]
PSEA_HIGH_MAX = 8
PSEA_LOW_MIN = 15
HACT_LOW = 1


@dataclass(frozen=True)
class Answer:
    label: str  # e.g. "low", "na", "adequate"
    value: int  # hact: 0 (N/A) … 4; psea: 1 … 3
    verified: bool = False  # backed by evidence a reviewer verified


class Contribution(BaseModel):
    question_id: str
    dimension: str
    rule: str
    key: bool
    factor: int
    answer: str | None
    value: int | None
    applicable: bool
    points: int
    verified_evidence: bool


class Thresholds(BaseModel):
    """Point totals below which each band holds (P < low_below → Low, …)."""

    low_below: float
    medium_below: float
    significant_below: float


class HactScore(BaseModel):
    points: int
    applicable: int
    score: float | None  # points per applicable question
    band: Band | None
    thresholds: Thresholds | None


class DimensionScore(HactScore):
    code: str
    rule: str


class PseaScore(BaseModel):
    total: int
    standards: int
    band: PseaBand | None
    rule: str = "≤ 8 high, 9–14 moderate, ≥ 15 low"


class RatingResult(BaseModel):
    framework: str
    overall: HactScore
    dimensions: list[DimensionScore]
    psea: PseaScore | None
    confidence: float
    contributions: list[Contribution]


def hact_points(value: int, factor: int) -> int:
    return 1 if value == HACT_LOW else factor * value


def hact_band(points: int, applicable: int) -> Band | None:
    if applicable == 0:
        return None
    for band, edge in zip(BANDS, HACT_EDGES_PCT, strict=False):
        if 100 * points < edge * applicable:
            return band
    return "high"


def hact_thresholds(applicable: int) -> Thresholds | None:
    if applicable == 0:
        return None
    low, medium, significant = (edge * applicable / 100 for edge in HACT_EDGES_PCT)
    return Thresholds(low_below=low, medium_below=medium, significant_below=significant)


def psea_band(total: int) -> PseaBand:
    if total <= PSEA_HIGH_MAX:
        return "high"
    if total >= PSEA_LOW_MIN:
        return "low"
    return "moderate"


def _hact(points: int, applicable: int) -> HactScore:
    return HactScore(
        points=points,
        applicable=applicable,
        score=round(points / applicable, 4) if applicable else None,
        band=hact_band(points, applicable),
        thresholds=hact_thresholds(applicable),
    )


def compute(framework: Framework, answers: dict[str, Answer]) -> RatingResult:
    """Score every answered question; unanswered ones are left out (submission requires them all)."""
    contributions: list[Contribution] = []
    dimensions: list[DimensionScore] = []
    psea: PseaScore | None = None
    total_points = total_applicable = 0
    weight_all = weight_verified = 0
    for dimension in framework.dimensions:
        dim_points = dim_applicable = psea_total = psea_count = 0
        for question in dimension.questions:
            answer = answers.get(question.id)
            factor = question.factor if dimension.rule == "hact" else question.weight
            applicable = answer is not None and (dimension.rule == "psea" or answer.value != 0)
            points = 0
            if answer is not None and applicable:
                if dimension.rule == "hact":
                    points = hact_points(answer.value, factor)
                    dim_points += points
                    dim_applicable += 1
                else:
                    points = answer.value
                    psea_total += answer.value
                    psea_count += 1
                weight_all += factor
                weight_verified += factor if answer.verified else 0
            contributions.append(
                Contribution(
                    question_id=question.id,
                    dimension=dimension.code,
                    rule=dimension.rule,
                    key=question.key,
                    factor=factor,
                    answer=answer.label if answer else None,
                    value=answer.value if answer else None,
                    applicable=applicable,
                    points=points,
                    verified_evidence=bool(answer and answer.verified),
                )
            )
        if dimension.rule == "hact":
            total_points += dim_points
            total_applicable += dim_applicable
            dimensions.append(
                DimensionScore(
                    code=dimension.code, rule="hact", **_hact(dim_points, dim_applicable).model_dump()
                )
            )
        else:
            psea = PseaScore(
                total=psea_total, standards=psea_count, band=psea_band(psea_total) if psea_count else None
            )
    return RatingResult(
        framework=framework.ref,
        overall=_hact(total_points, total_applicable),
        dimensions=dimensions,
        psea=psea,
        confidence=round(weight_verified / weight_all, 4) if weight_all else 0.0,
        contributions=contributions,
    )


class Improvement(BaseModel):
    question_id: str
    dimension: str
    key: bool
    answer: str | None
    improve_to: str
    points_saved: int


class Explanation(BaseModel):
    """The smallest set of answers whose improvement moves the rating to the next better band."""

    framework: str
    band: Band | None
    points: int
    applicable: int
    target_band: Band | None
    points_needed_below: float | None
    improvements: list[Improvement]
    psea_band: PseaBand | None = None
    psea_improvements: list[Improvement] = []
    note: str


def explain(result: RatingResult) -> Explanation:
    """Greedy by points saved: each answer can at best become Low (1 point), so taking the largest
    savings first reaches any required saving with the fewest answers."""
    overall = result.overall
    improvements: list[Improvement] = []
    target: Band | None = None
    needed_below: float | None = None
    if overall.band is None:
        note = "no applicable questions answered yet"
    elif overall.band == "low":
        note = "already in the best band"
    else:
        target = BANDS[BANDS.index(overall.band) - 1]
        edge = HACT_EDGES_PCT[BANDS.index(target)]
        needed_below = edge * overall.applicable / 100
        candidates = sorted(
            (c for c in result.contributions if c.rule == "hact" and c.applicable and c.points > 1),
            key=lambda c: (-(c.points - 1), c.question_id),
        )
        points = overall.points
        for c in candidates:
            if 100 * points < edge * overall.applicable:
                break
            improvements.append(
                Improvement(
                    question_id=c.question_id,
                    dimension=c.dimension,
                    key=c.key,
                    answer=c.answer,
                    improve_to="low",
                    points_saved=c.points - 1,
                )
            )
            points -= c.points - 1
        note = f"answering these {len(improvements)} question(s) Low moves the rating to {target}"
    psea_improvements: list[Improvement] = []
    psea = result.psea
    if psea is not None and psea.band in ("high", "moderate"):
        goal = PSEA_HIGH_MAX + 1 if psea.band == "high" else PSEA_LOW_MIN
        total = psea.total
        for c in sorted(
            (c for c in result.contributions if c.rule == "psea" and (c.value or 0) < 3),
            key=lambda c: (c.value or 0, c.question_id),
        ):
            if total >= goal:
                break
            psea_improvements.append(
                Improvement(
                    question_id=c.question_id,
                    dimension=c.dimension,
                    key=False,
                    answer=c.answer,
                    improve_to="adequate",
                    points_saved=3 - (c.value or 0),
                )
            )
            total += 3 - (c.value or 0)
    return Explanation(
        framework=result.framework,
        band=overall.band,
        points=overall.points,
        applicable=overall.applicable,
        target_band=target,
        points_needed_below=needed_below,
        improvements=improvements,
        psea_band=psea.band if psea else None,
        psea_improvements=psea_improvements,
        note=note,
    )
