"""The alliance stage machine and its gates (pure functions, no I/O).

``objectives → prospecting → negotiation → (trial) → commitments → established → concluded``

* Forward moves go one stage at a time; the only stage that may be skipped is the optional *trial*
  (negotiation → commitments).
* Going back one step is allowed from *negotiation* (→ prospecting, e.g. to look for other prospects)
  and from *trial* (→ negotiation, when the test shows the terms must be renegotiated).
* *dissolved* can be entered from any non-terminal stage; *concluded* and *dissolved* are terminal.

Gates (checked on entering a stage, and kept as invariants while the alliance stays at or beyond it):

* *negotiation* needs at least two parties;
* *commitments* needs the project's type, size, cost (amount and currency), funding sources and
  expected social impact;
* *concluded* needs at least one result backed by indicator data (indicator_code, value and period).
"""

from __future__ import annotations

from typing import get_args

from tejido_common.problems import FieldError, field_error
from tejido_registry.alliances.schemas import AllianceFields, Stage

STAGES: tuple[str, ...] = get_args(Stage)
INITIAL = "objectives"
TERMINAL = frozenset({"concluded", "dissolved"})
FORWARD: dict[str, frozenset[str]] = {
    "objectives": frozenset({"prospecting"}),
    "prospecting": frozenset({"negotiation"}),
    "negotiation": frozenset({"trial", "commitments"}),
    "trial": frozenset({"commitments"}),
    "commitments": frozenset({"established"}),
    "established": frozenset({"concluded"}),
}
BACK: dict[str, str] = {"negotiation": "prospecting", "trial": "negotiation"}
# The gates that must hold while an alliance is in a stage (cumulative: the gates already passed).
GATES_IN_FORCE: dict[str, tuple[str, ...]] = {
    "objectives": (),
    "prospecting": (),
    "negotiation": ("negotiation",),
    "trial": ("negotiation",),
    "commitments": ("negotiation", "commitments"),
    "established": ("negotiation", "commitments"),
    "concluded": ("negotiation", "commitments", "concluded"),
    "dissolved": (),
}
PROJECT_FIELDS = ("type", "size", "cost", "funding_sources", "expected_social_impact")
MIN_PARTIES = 2


def allowed_targets(stage: str) -> list[str]:
    """Stages reachable from ``stage`` in one transition, in stage order."""
    if stage in TERMINAL:
        return []
    targets = set(FORWARD.get(stage, ())) | {"dissolved"}
    if stage in BACK:
        targets.add(BACK[stage])
    return [s for s in STAGES if s in targets]


def past_prospecting(stage: str) -> bool:
    return "negotiation" in GATES_IN_FORCE.get(stage, ())


def transition_errors(from_stage: str, to_stage: str) -> list[FieldError]:
    """Why ``from_stage → to_stage`` is not a legal move (empty when it is)."""
    if to_stage not in STAGES:
        return [field_error(["to_stage"], f"unknown stage {to_stage!r}; stages are {', '.join(STAGES)}")]
    if from_stage in TERMINAL:
        return [field_error(["to_stage"], f"the alliance is {from_stage}, a terminal stage")]
    if to_stage == from_stage:
        return [field_error(["to_stage"], f"the alliance is already in stage {from_stage}")]
    allowed = allowed_targets(from_stage)
    if to_stage not in allowed:
        return [
            field_error(
                ["to_stage"], f"cannot move from {from_stage} to {to_stage}; allowed: {', '.join(allowed)}"
            )
        ]
    return []


def gate_errors(gate: str, fields: AllianceFields) -> list[FieldError]:
    """The missing data of one gate, each naming its field."""
    errors: list[FieldError] = []
    if gate == "negotiation" and len(fields.parties) < MIN_PARTIES:
        errors.append(
            field_error(
                ["parties"], f"needs at least {MIN_PARTIES} parties, the alliance has {len(fields.parties)}"
            )
        )
    elif gate == "commitments":
        project = fields.project
        for name in PROJECT_FIELDS:
            value = getattr(project, name) if project is not None else None
            if value is None or value == []:
                what = "amount and currency" if name == "cost" else "a value"
                errors.append(
                    field_error(["project", name], f"commitments need the project's {name} ({what})")
                )
    elif gate == "concluded" and not any(r.backed_by_indicator for r in fields.results):
        errors.append(
            field_error(
                ["results"], "concluding needs at least one result with indicator_code, value and period"
            )
        )
    return errors


def stage_errors(stage: str, fields: AllianceFields) -> list[FieldError]:
    """Every gate in force in ``stage`` that ``fields`` break."""
    return [e for gate in GATES_IN_FORCE[stage] for e in gate_errors(gate, fields)]
