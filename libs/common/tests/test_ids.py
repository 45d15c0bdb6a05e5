import uuid

import pytest

from tejido_common import ids
from tejido_common.ids import new_id, new_ids


def test_bulk_ids_are_uuid7_in_order_with_single_ids() -> None:
    # more than the 4,096 a millisecond's counter holds, between single ids
    made = [new_id(), *new_ids(10_000), new_id(), *new_ids(3), new_id()]
    assert made == sorted(made)
    assert len(set(made)) == len(made)
    for text in made:
        parsed = uuid.UUID(text)
        assert parsed.version == 7
        assert parsed.variant == uuid.RFC_4122
        assert str(parsed) == text


def test_single_ids_after_a_bulk_never_wrap_below_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # The clock stands still: the bulk leaves its millisecond's 12-bit counter near the top.
    now = ids._last_ms + 10
    monkeypatch.setattr(ids.time, "time_ns", lambda: now * 1_000_000)
    monkeypatch.setattr(ids, "_last_ms", now)
    monkeypatch.setattr(ids, "_counter", 0)
    bulk = new_ids(4_000)
    after = [new_id() for _ in range(200)]
    assert [*bulk, *after] == sorted([*bulk, *after])


def test_no_ids() -> None:
    assert new_ids(0) == []
