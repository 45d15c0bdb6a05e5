"""The bulk CSV path (fast tier): one connection per import, a transaction per batch, revisions across
batches and files, and a batch that fails part-way leaves nothing behind."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError

from tejido_reporting.aggregates import rollups
from tejido_reporting.aggregates.queries import AggregateQuery

from .conftest import World

HEADER = "organization_id,observation_key,revision,indicator,period,territory,value"


def csv_of(org: str, rows: list[tuple[str, int, str, float]]) -> bytes:
    """(key, revision, period, value) rows of ``houses_built``."""
    lines = [HEADER] + [
        f"{org},{key},{rev},houses_built,{period},HN-FM,{value:g}" for key, rev, period, value in rows
    ]
    return ("\n".join(lines) + "\n").encode()


def houses(world: World) -> float | None:
    totals = world.aggregator.aggregate(AggregateQuery(indicator="houses_built")).totals
    return totals[0].value if totals else None


def test_an_import_holds_one_connection_for_all_its_batches(world: World) -> None:
    org = world.organization()
    checkouts: list[Any] = []
    listener = lambda *_: checkouts.append(1)  # noqa: E731
    event.listen(world.db.engine, "checkout", listener)
    try:
        report = world.observations.import_csv(csv_of(org, [(f"k{i}", 1, "2009-01", 1) for i in range(10)]))
    finally:
        event.remove(world.db.engine, "checkout", listener)
    assert report.committed == 10  # four batches of at most three rows (the fixture's batch size)
    assert len(checkouts) == 1
    assert houses(world) == 10


def test_revisions_across_batches_and_files_count_once_and_latest_wins(world: World) -> None:
    org = world.organization()
    first = world.observations.import_csv(csv_of(org, [(f"k{i}", 2, "2009-01", 10) for i in range(5)]))
    assert (first.committed, first.recorded) == (5, 5)
    assert houses(world) == 50
    # the whole file again: replays; a late revision 1: kept, never counted; revision 3 of two: corrections,
    # k2 corrected twice in the file, in two different batches (three rows each)
    again = csv_of(
        org,
        [(f"k{i}", 2, "2009-01", 10) for i in range(5)]
        + [
            ("k2", 3, "2009-01", 2),
            ("k0", 1, "2009-01", 99),
            ("k1", 3, "2009-01", 1),
            ("k2", 4, "2009-02", 3),
        ],
    )
    report = world.observations.import_csv(again)
    assert (report.committed, report.replayed, report.kept_superseded) == (9, 5, 1)
    assert (report.recorded, report.corrections, report.failed) == (3, 3, 0)
    assert houses(world) == 10 * 3 + 1 + 3
    history = world.observations.history(org, "k2")
    assert [(r.revision, r.in_force) for r in history.revisions] == [(2, False), (3, False), (4, True)]


def test_a_batch_that_fails_part_way_leaves_nothing_and_its_rows_are_redone_one_by_one(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = world.organization()
    flush = rollups.RollupWriter.flush
    failed: list[int] = []

    def flush_then_fail_once(self: rollups.RollupWriter, session: Any) -> None:
        flush(self, session)  # observations and rollups are written …
        if not failed:
            failed.append(1)  # … then a concurrent writer wins a race: the whole batch must go
            raise IntegrityError("INSERT INTO observations", None, Exception("duplicate key"))

    monkeypatch.setattr(rollups.RollupWriter, "flush", flush_then_fail_once)
    report = world.observations.import_csv(csv_of(org, [(f"k{i}", 1, "2009-01", 5) for i in range(3)]))
    assert failed == [1]
    assert (report.committed, report.recorded, report.replayed, report.failed) == (3, 3, 0, 0)
    assert houses(world) == 15  # counted once: the failed batch's writes were rolled back
    for i in range(3):
        assert [r.revision for r in world.observations.history(org, f"k{i}").revisions] == [1]


def test_planner_statistics_are_refreshed_as_the_table_grows_by_half(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    if world.db.dialect != "postgresql":
        pytest.skip("planner statistics are refreshed on PostgreSQL only")
    from tejido_reporting.observations import service
    from tejido_reporting.observations.repository import ObservationRepository

    monkeypatch.setattr(service, "ANALYZE_EVERY_ROWS", 4)
    refresh = ObservationRepository.refresh_statistics
    counted: list[int] = []

    def recorded(self: ObservationRepository) -> int:
        counted.append(refresh(self))
        return counted[-1]

    monkeypatch.setattr(ObservationRepository, "refresh_statistics", recorded)
    org = world.organization()
    world.observations.import_csv(csv_of(org, [(f"k{i}", 1, "2009-01", 1) for i in range(30)]))
    # batches of three rows: every 4 rows (at least) while small, then after half the table again
    assert counted == [6, 12, 18, 27]
