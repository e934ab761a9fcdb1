from __future__ import annotations

import pytest

from ironstar.domain import errors, kernel
from ironstar.domain.access import ensure_owner
from ironstar.domain.grid import GRID_COLUMNS, GridRect, parse_grid_rect
from ironstar.domain.kernel import UserId


def test_names_are_trimmed_and_bounded() -> None:
    assert kernel.parse_name("  Q4 Metrics ") == "Q4 Metrics"
    assert kernel.parse_name("x" * kernel.MAX_NAME_LENGTH) == "x" * kernel.MAX_NAME_LENGTH
    for bad in ("", " \t", "x" * (kernel.MAX_NAME_LENGTH + 1), "a\nb", "a\x00b"):
        with pytest.raises(errors.InvalidName):
            kernel.parse_name(bad)


def test_name_keys_ignore_case_and_surrounding_space() -> None:
    assert kernel.name_key(" Straße ") == kernel.name_key("STRASSE")


def test_sql_is_non_blank_and_bounded() -> None:
    assert kernel.parse_sql("SELECT 1") == "SELECT 1"
    for bad in ("", "  \n", "x" * (kernel.MAX_SQL_LENGTH + 1)):
        with pytest.raises(errors.InvalidSql):
            kernel.parse_sql(bad)


def test_ids_refuse_whitespace_and_length() -> None:
    assert kernel.parse_id("hf://datasets/sciexp/fixtures") == "hf://datasets/sciexp/fixtures"
    for bad in ("", "a b", "a\tb", "x" * (kernel.MAX_ID_LENGTH + 1)):
        with pytest.raises(errors.InvalidId):
            kernel.parse_id(bad)


def test_user_id_of_a_sign_in_identity() -> None:
    assert kernel.user_id_for("github", "583231") == "github:583231"


def test_json_objects_are_canonical_and_bounded() -> None:
    assert kernel.parse_json_object({"a": (1, 2)}, what="x") == {"a": [1, 2]}
    with pytest.raises(errors.TooLarge):
        kernel.parse_json_object({"a": "x" * 100}, what="x", limit=50)
    with pytest.raises(errors.InvalidValue):
        kernel.parse_json_object([1], what="x")  # type: ignore[arg-type]


@pytest.mark.parametrize("raw", [float("inf"), float("nan"), -1.0, True])
def test_clock_readings_are_finite_and_after_the_epoch(raw: float) -> None:
    with pytest.raises(errors.InvalidValue):
        kernel.parse_instant(raw)


def test_grid_rects_overlap_only_when_they_share_a_cell() -> None:
    a = GridRect(x=0, y=0, width=4, height=3)
    assert a.overlaps(GridRect(x=3, y=2, width=1, height=1))
    assert not a.overlaps(GridRect(x=4, y=0, width=1, height=1))
    assert not a.overlaps(GridRect(x=0, y=3, width=4, height=1))
    assert parse_grid_rect(GridRect(x=0, y=0, width=GRID_COLUMNS, height=1)) is not None
    with pytest.raises(errors.OutOfGrid):
        parse_grid_rect(GridRect(x=0, y=0, width=GRID_COLUMNS + 1, height=1))
    with pytest.raises(errors.OutOfGrid):
        parse_grid_rect(GridRect(x=1.5, y=0, width=1, height=1))  # type: ignore[arg-type]


def test_only_the_owner_passes_the_owner_check() -> None:
    ensure_owner(UserId("u1"), UserId("u1"))
    with pytest.raises(errors.Forbidden):
        ensure_owner(UserId("u1"), UserId("u2"))
