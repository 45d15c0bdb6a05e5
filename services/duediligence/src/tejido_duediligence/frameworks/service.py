"""The framework catalog: every file under ``data/`` loaded and validated once at start-up."""

from __future__ import annotations

import json
from importlib import resources

from tejido_common.problems import NotFound
from tejido_duediligence.frameworks.schemas import Framework, FrameworkSummary


class UnknownFramework(NotFound):
    code, title = "unknown-framework", "Framework not found"


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) if p.isdigit() else 0 for p in version.split("."))


class FrameworkCatalog:
    def __init__(self, frameworks: list[Framework] | None = None):
        self._all: dict[tuple[str, str], Framework] = {}
        for framework in frameworks if frameworks is not None else load_shipped():
            self._all[(framework.id, framework.version)] = framework

    def list(self) -> list[FrameworkSummary]:
        return [
            FrameworkSummary(
                id=f.id,
                version=f.version,
                title=f.title,
                dimensions=len(f.dimensions),
                questions=len(f.questions()),
                key_questions=sum(q.key for _, q in f.questions()),
            )
            for f in sorted(self._all.values(), key=lambda f: (f.id, _version_key(f.version)))
        ]

    def get(self, framework_id: str, version: str | None = None) -> Framework:
        if version is None:
            versions = [f for (i, _), f in self._all.items() if i == framework_id]
            if versions:
                return max(versions, key=lambda f: _version_key(f.version))
        elif (framework_id, version) in self._all:
            return self._all[(framework_id, version)]
        label = framework_id if version is None else f"{framework_id} version {version}"
        raise UnknownFramework(f"framework {label} does not exist")


def load_shipped() -> list[Framework]:
    folder = resources.files("tejido_duediligence.frameworks") / "data"
    return [
        Framework.model_validate(json.loads(p.read_text(encoding="utf-8")))
        for p in sorted(folder.iterdir(), key=lambda p: p.name)
        if p.name.endswith(".json")
    ]
