"""The HACT and PSEA rules, pinned with worked examples and every band edge (pure, no database)."""

from __future__ import annotations

import pytest

from tejido_duediligence.frameworks.schemas import Framework
from tejido_duediligence.frameworks.service import FrameworkCatalog
from tejido_duediligence.ratings.rules import Answer, compute, explain, hact_band, psea_band

HACT = {"na": 0, "low": 1, "medium": 2, "significant": 3, "high": 4}
PSEA = {"absent": 1, "progressing": 2, "adequate": 3}


def small_framework(questions: int = 10, key: int = 1, psea: bool = False) -> Framework:
    """``questions`` HACT questions Q-1…, the first ``key`` of them key questions."""
    text = {"es": "¿…?", "en": "…?"}
    dims = [
        {
            "code": "ops",
            "rule": "hact",
            "title": text,
            "questions": [
                {"id": f"Q-{i}", "text": text, "weight": 1, "key": i <= key} for i in range(1, questions + 1)
            ],
        }
    ]
    if psea:
        dims.append(
            {
                "code": "psea",
                "rule": "psea",
                "title": text,
                "questions": [{"id": f"PSEA-{i}", "text": text, "weight": 1} for i in range(1, 7)],
            }
        )
    return Framework.model_validate(
        {
            "id": "t",
            "version": "1",
            "title": text,
            "description": text,
            "scales": {"hact": HACT, "psea": PSEA},
            "dimensions": dims,
        }
    )


def answers(**labels: str) -> dict[str, Answer]:
    out = {}
    for qid, label in labels.items():
        qid = qid.replace("_", "-")
        out[qid] = Answer(label, (PSEA if qid.startswith("PSEA") else HACT)[label])
    return out


def worked_example(key_answer: str = "medium") -> dict[str, Answer]:
    # peer-systems.md: 10 applicable questions, 1 key. 7 Low, 2 normal Medium, the key one Medium.
    return answers(
        Q_1=key_answer, Q_2="medium", Q_3="medium", Q_4="low", Q_5="low", Q_6="low", Q_7="low", Q_8="low",
        Q_9="low", Q_10="low",
    )  # fmt: skip


def test_worked_example_medium_then_significant_when_the_key_answer_is_high() -> None:
    result = compute(small_framework(), worked_example())
    assert (result.overall.points, result.overall.applicable) == (15, 10)
    assert result.overall.thresholds is not None
    assert result.overall.thresholds.model_dump() == {
        "low_below": 14.5,
        "medium_below": 19.0,
        "significant_below": 25.0,
    }
    assert result.overall.band == "medium"
    key = next(c for c in result.contributions if c.question_id == "Q-1")
    assert (key.key, key.factor, key.points) == (True, 2, 4)  # key questions weigh double
    high = compute(small_framework(), worked_example("high"))
    assert (high.overall.points, high.overall.band) == (19, "significant")  # 19 is not below 19


@pytest.mark.parametrize(
    ("points", "band"),
    [(10, "low"), (14, "low"), (15, "medium"), (18, "medium"), (19, "significant"), (24, "significant"),
     (25, "high"), (40, "high")],
)  # fmt: skip
def test_band_edges_for_ten_applicable_questions(points: int, band: str) -> None:
    assert hact_band(points, 10) == band


def test_band_edges_are_exact_for_fractional_thresholds() -> None:
    # n = 20: Low below 29, Medium below 38, Significant below 50.
    assert [hact_band(p, 20) for p in (28, 29, 37, 38, 49, 50)] == [
        "low", "medium", "medium", "significant", "significant", "high",
    ]  # fmt: skip


def test_na_makes_a_question_non_applicable_and_low_earns_one_point_even_when_key() -> None:
    result = compute(small_framework(3, key=1), answers(Q_1="low", Q_2="na", Q_3="significant"))
    assert (result.overall.points, result.overall.applicable) == (1 + 3, 2)
    assert result.overall.band == "significant"  # 4 points over 2: Medium ends below 3.8
    q2 = next(c for c in result.contributions if c.question_id == "Q-2")
    assert (q2.applicable, q2.points) == (False, 0)


@pytest.mark.parametrize(
    ("total", "band"), [(6, "high"), (8, "high"), (9, "moderate"), (14, "moderate"), (15, "low"), (18, "low")]
)
def test_psea_bands(total: int, band: str) -> None:
    assert psea_band(total) == band


def test_psea_is_scored_apart_from_hact() -> None:
    labels = {f"PSEA_{i}": "progressing" for i in range(1, 7)}  # 12 → moderate
    result = compute(small_framework(psea=True), {**worked_example(), **answers(**labels)})
    assert result.psea is not None and (result.psea.total, result.psea.band) == (12, "moderate")
    assert result.overall.points == 15  # PSEA answers never enter the HACT points


def test_explain_lists_the_smallest_set_of_answers_that_reaches_the_next_better_band() -> None:
    # 10 questions, 1 key: key High (8), three Significant (9), six Low (6) → 23: Significant.
    labels = {"Q_1": "high", "Q_2": "significant", "Q_3": "significant", "Q_4": "significant"}
    labels |= {f"Q_{i}": "low" for i in range(5, 11)}
    result = compute(small_framework(), answers(**labels))
    assert (result.overall.points, result.overall.band) == (23, "significant")
    why = explain(result)
    assert why.target_band == "medium" and why.points_needed_below == 19.0
    # Turning the key answer Low saves 7 points (23 → 16 < 19): one answer is enough.
    assert [i.question_id for i in why.improvements] == ["Q-1"]
    assert why.improvements[0].points_saved == 7


def test_explain_takes_the_largest_savings_first_when_one_is_not_enough() -> None:
    labels = {f"Q_{i}": "significant" for i in range(2, 11)} | {"Q_1": "medium"}
    result = compute(small_framework(), answers(**labels))
    assert (result.overall.points, result.overall.band) == (31, "high")  # 4 + 9×3
    why = explain(result)
    # Below 25 means saving at least 7: the key Medium (4 → 1 saves 3), then two Significant (2 each).
    assert why.target_band == "significant"
    assert [i.points_saved for i in why.improvements] == [3, 2, 2]
    assert why.improvements[0].question_id == "Q-1"


def test_confidence_is_the_share_of_weight_backed_by_verified_evidence() -> None:
    verified = {
        qid: Answer(a.label, a.value, verified=qid in ("Q-1", "Q-2")) for qid, a in worked_example().items()
    }
    result = compute(small_framework(), verified)
    assert result.confidence == round(3 / 11, 4)  # key Q-1 weighs 2, Q-2 1; total weight 11


def test_the_shipped_framework_has_the_domain_dimensions_in_two_languages() -> None:
    framework = FrameworkCatalog().get("dd-default")
    questions = framework.questions()
    assert len(questions) >= 40
    codes = {d.code for d in framework.dimensions}
    assert {"legal", "governance", "financial", "transparency", "results", "psea", "references"} <= codes
    assert {"reputation", "environment", "legitimacy", "alliances"} <= codes
    psea = next(d for d in framework.dimensions if d.code == "psea")
    assert len(psea.questions) == 6 and psea.rule == "psea"
    assert len([q for q in next(d for d in framework.dimensions if d.code == "legitimacy").questions]) == 5
    assert all(q.text.es != q.text.en for _, q in questions)
