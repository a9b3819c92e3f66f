"""Argument checks of the query layer: refusals are BadInput naming the argument, never a crash."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from queries.bounds import DEPTH, MAX_IDS, as_utc, check_ids, check_kind, check_kinds, check_range
from queries.errors import BadInput


@pytest.mark.parametrize("value", [0, 4, -1, True, 2.0, "2", None])
def test_out_of_range_or_not_a_whole_number_is_refused(value: object) -> None:
    with pytest.raises(BadInput, match="depth"):
        check_range("depth", value, DEPTH)  # type: ignore[arg-type]


def test_in_range_passes() -> None:
    assert [check_range("depth", d, DEPTH) for d in (1, 2, 3)] == [1, 2, 3]


def test_kinds_are_model_labels() -> None:
    assert check_kinds(None) is None
    assert check_kinds(["IP", "Account", "IP"]) == ["IP", "Account"]
    assert check_kind("Email").value == "Email"
    for bad in (["ip"], ["Account", "Planet"], []):
        with pytest.raises(BadInput):
            check_kinds(bad)
    with pytest.raises(BadInput):
        check_kind("Planet")


def test_ids_are_distinct_well_formed_and_few() -> None:
    assert check_ids(["IP:192.0.2.1", "IP:192.0.2.1", "Account:a:1"]) == ["IP:192.0.2.1", "Account:a:1"]
    for bad in ([], ["192.0.2.1"], ["Planet:x"], [f"IP:192.0.2.{i}" for i in range(MAX_IDS + 1)], "IP:192.0.2.1"):
        with pytest.raises(BadInput):
            check_ids(bad)  # type: ignore[arg-type]


def test_times_become_utc() -> None:
    assert as_utc(datetime(2024, 1, 1, 12), "since") == datetime(2024, 1, 1, 12, tzinfo=UTC)
    paris = timezone(timedelta(hours=1))
    assert as_utc(datetime(2024, 1, 1, 12, tzinfo=paris), "since") == datetime(2024, 1, 1, 11, tzinfo=UTC)
    assert as_utc(None, "since") is None
    with pytest.raises(BadInput):
        as_utc("2024-01-01", "since")  # type: ignore[arg-type]
