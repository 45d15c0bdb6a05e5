"""`tejido up --matching-workers N`: the launcher's part, checked without starting anything."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tejido_cli import main
from tejido_cli.config import COMPONENTS, LauncherConfig


def test_workers_take_over_ranking_from_the_api(tmp_path: Path) -> None:
    matching = next(c for c in COMPONENTS if c.name == "matching")
    assert "embedded_worker" not in LauncherConfig(data_dir=tmp_path).service_overrides(matching, "nats://x")
    env = LauncherConfig(data_dir=tmp_path, matching_workers=2).component_env(matching, "nats://x")
    assert env["TEJIDO_MATCHING_EMBEDDED_WORKER"] == "false"
    registry = next(c for c in COMPONENTS if c.name == "registry")
    assert "TEJIDO_REGISTRY_EMBEDDED_WORKER" not in LauncherConfig(matching_workers=2).component_env(
        registry, "n"
    )


def test_up_passes_the_option_to_the_launcher(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    seen: list[int] = []

    class Recorder:
        def __init__(self, cfg: LauncherConfig):
            seen.append(cfg.matching_workers)

        def run(self) -> int:
            return 0

    monkeypatch.setattr(main, "Launcher", Recorder)
    monkeypatch.setenv("TEJIDO_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(main.app, ["up", "--matching-workers", "3"])
    assert result.exit_code == 0, result.output
    assert CliRunner().invoke(main.app, ["up", "--matching-workers", "-1"]).exit_code != 0
    assert seen == [3]
