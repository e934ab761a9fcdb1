from __future__ import annotations

import pytest

from ironstar.domain import errors, saved_query
from ironstar.domain.kernel import DatasetRef, Name, SqlText, UserId
from ironstar.domain.saved_query import (
    DatasetRefUpdated,
    DeleteSavedQuery,
    QueryDeleted,
    QueryRenamed,
    QuerySaved,
    QuerySqlUpdated,
    RenameSavedQuery,
    SaveQuery,
    UpdateSavedQueryDatasetRef,
    UpdateSavedQuerySql,
)

from .gwt import Decider

saved = Decider(saved_query)
ADA = UserId("github:1")
BOB = UserId("github:2")
REF = DatasetRef(catalog_id="local", dataset="penguins")
SAVED = QuerySaved(
    saved_query_id="s1",
    user_id=ADA,
    at=1.0,
    name=Name("Penguin bills"),
    sql=SqlText("SELECT * FROM penguins"),
    dataset_ref=REF,
)
DELETED = QueryDeleted(saved_query_id="s1", user_id=ADA, at=9.0)


def save(**changes: object) -> SaveQuery:
    fields: dict[str, object] = dict(
        saved_query_id="s1",
        actor=ADA,
        at=1,
        name="Penguin bills",
        sql="SELECT * FROM penguins",
        dataset_ref=REF,
    )
    fields.update(changes)
    return SaveQuery(**fields)  # type: ignore[arg-type]


def test_stream_id() -> None:
    assert saved_query.stream_id("s1") == "saved_query:s1"


def test_save_stores_name_sql_and_dataset_for_its_owner() -> None:
    state = saved.given().when(save()).then(SAVED)
    assert (state.owner, state.name, state.dataset_ref) == (ADA, "Penguin bills", REF)


def test_save_with_a_name_the_user_already_uses_is_refused() -> None:
    saved.given().when(save(names_taken=("penguin BILLS", "Other"))).then_rejected(errors.NameTaken)


@pytest.mark.parametrize(
    ("changes", "error"),
    [({"name": ""}, errors.InvalidName), ({"sql": ""}, errors.InvalidSql)],
)
def test_save_refuses_empty_names_and_sql(
    changes: dict[str, object], error: type[errors.DomainError]
) -> None:
    saved.given().when(save(**changes)).then_rejected(error)


def test_save_twice_is_refused() -> None:
    saved.given(SAVED).when(save()).then_rejected(errors.AlreadyExists)


def test_rename() -> None:
    state = (
        saved.given(SAVED)
        .when(RenameSavedQuery(saved_query_id="s1", actor=ADA, at=2, name="Bills"))
        .then(QueryRenamed(saved_query_id="s1", user_id=ADA, at=2.0, name=Name("Bills")))
    )
    assert state.name == "Bills"


def test_rename_to_a_taken_name_is_refused_but_its_own_name_is_not_taken() -> None:
    taken = ("Penguin bills", "Flights")
    given = saved.given(SAVED)
    given.when(
        RenameSavedQuery(saved_query_id="s1", actor=ADA, at=2, name="flights", names_taken=taken)
    ).then_rejected(errors.NameTaken)
    given.when(
        RenameSavedQuery(
            saved_query_id="s1", actor=ADA, at=2, name="PENGUIN BILLS", names_taken=taken
        )
    ).then(QueryRenamed(saved_query_id="s1", user_id=ADA, at=2.0, name=Name("PENGUIN BILLS")))


def test_rename_to_the_same_name_changes_nothing() -> None:
    saved.given(SAVED).when(
        RenameSavedQuery(saved_query_id="s1", actor=ADA, at=2, name="Penguin bills")
    ).then_nothing()


def test_update_sql() -> None:
    sql = "SELECT species FROM penguins"
    state = (
        saved.given(SAVED)
        .when(UpdateSavedQuerySql(saved_query_id="s1", actor=ADA, at=3, sql=sql))
        .then(QuerySqlUpdated(saved_query_id="s1", user_id=ADA, at=3.0, sql=SqlText(sql)))
    )
    assert state.sql == sql


def test_update_sql_to_the_same_text_changes_nothing() -> None:
    saved.given(SAVED).when(
        UpdateSavedQuerySql(saved_query_id="s1", actor=ADA, at=3, sql="SELECT * FROM penguins")
    ).then_nothing()


def test_update_and_clear_the_dataset_ref() -> None:
    flights = DatasetRef(catalog_id="local", dataset="flights")
    given = saved.given(SAVED)
    given.when(
        UpdateSavedQueryDatasetRef(saved_query_id="s1", actor=ADA, at=4, dataset_ref=flights)
    ).then(DatasetRefUpdated(saved_query_id="s1", user_id=ADA, at=4.0, dataset_ref=flights))
    state = given.when(
        UpdateSavedQueryDatasetRef(saved_query_id="s1", actor=ADA, at=4, dataset_ref=None)
    ).then(DatasetRefUpdated(saved_query_id="s1", user_id=ADA, at=4.0, dataset_ref=None))
    assert state.dataset_ref is None
    given.when(
        UpdateSavedQueryDatasetRef(saved_query_id="s1", actor=ADA, at=4, dataset_ref=REF)
    ).then_nothing()


def test_delete() -> None:
    state = (
        saved.given(SAVED)
        .when(DeleteSavedQuery(saved_query_id="s1", actor=ADA, at=9))
        .then(DELETED)
    )
    assert state.deleted


COMMANDS = [
    RenameSavedQuery(saved_query_id="s1", actor=ADA, at=10, name="New"),
    UpdateSavedQuerySql(saved_query_id="s1", actor=ADA, at=10, sql="SELECT 1"),
    UpdateSavedQueryDatasetRef(saved_query_id="s1", actor=ADA, at=10, dataset_ref=None),
    DeleteSavedQuery(saved_query_id="s1", actor=ADA, at=10),
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: type(c).__name__)
def test_nothing_is_accepted_after_delete(command: object) -> None:
    saved.given(SAVED, DELETED).when(command).then_rejected(errors.Deleted)


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: type(c).__name__)
def test_another_user_is_forbidden(command: saved_query.Commands) -> None:
    import msgspec

    saved.given(SAVED).when(msgspec.structs.replace(command, actor=BOB)).then_rejected(
        errors.Forbidden
    )


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: type(c).__name__)
def test_commands_on_a_missing_saved_query_are_not_found(command: object) -> None:
    saved.given().when(command).then_rejected(errors.NotFound)
