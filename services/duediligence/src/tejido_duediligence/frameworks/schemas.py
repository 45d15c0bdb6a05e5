"""A framework: dimensions → questions (es/en text, weight, key flag, answer scale, evidence)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Rule = Literal["hact", "psea"]


class Text(BaseModel):
    model_config = ConfigDict(extra="forbid")
    es: str = Field(min_length=1)
    en: str = Field(min_length=1)


class Question(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[A-Z]+-[0-9]+$", examples=["GOV-1"])
    text: Text
    weight: int = Field(ge=1, le=10)
    key: bool = False
    evidence_required: bool = False
    evidence_types: list[str] = Field(default_factory=list)

    @property
    def factor(self) -> int:
        """HACT: key questions weigh double."""
        return self.weight * (2 if self.key else 1)


class Dimension(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str
    rule: Rule
    title: Text
    questions: list[Question] = Field(min_length=1)


class Framework(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    version: str
    title: Text
    description: Text
    # Answer labels → values: hact na=0 (not applicable), low=1 … high=4; psea absent=1 … adequate=3.
    scales: dict[Rule, dict[str, int]]
    dimensions: list[Dimension]

    @model_validator(mode="after")
    def _unique_ids(self) -> Framework:
        ids = [q.id for d in self.dimensions for q in d.questions]
        if len(ids) != len(set(ids)):
            raise ValueError("question ids must be unique within a framework")
        return self

    @property
    def ref(self) -> str:
        return f"{self.id}@{self.version}"

    def question(self, question_id: str) -> tuple[Dimension, Question] | None:
        for dimension in self.dimensions:
            for question in dimension.questions:
                if question.id == question_id:
                    return dimension, question
        return None

    def questions(self) -> list[tuple[Dimension, Question]]:
        return [(d, q) for d in self.dimensions for q in d.questions]


class FrameworkSummary(BaseModel):
    id: str
    version: str
    title: Text
    dimensions: int
    questions: int
    key_questions: int
