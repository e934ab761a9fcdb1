"""SavedQuery: a named, reusable SQL query of one user (a stream per saved query).

Names are unique per user, which spans streams: the handler passes the user's
current saved-query names (``names_taken``, from the saved-queries read model) on
the command, and the decider refuses a duplicate. Two saves racing ahead of the
read model can still both pass; the read model is the place to notice that.
Nothing is accepted after a query is deleted.
"""

from __future__ import annotations

from typing import Final, assert_never

import msgspec

from ironstar.domain import errors
from ironstar.domain.access import ensure_owner
from ironstar.domain.kernel import (
    Command,
    DatasetRef,
    Event,
    Name,
    SqlText,
    UserId,
    name_key,
    parse_dataset_ref,
    parse_id,
    parse_instant,
    parse_name,
    parse_sql,
    parse_user_id,
)

STREAM_TYPE: Final = "saved_query"
SNAPSHOT_SCHEMA: Final = 1


def stream_id(saved_query_id: str) -> str:
    return f"{STREAM_TYPE}:{saved_query_id}"


# -- commands --------------------------------------------------------------------------


class SavedQueryCommand(Command, frozen=True, kw_only=True):
    saved_query_id: str
    actor: UserId
    at: float


class SaveQuery(SavedQueryCommand, frozen=True, kw_only=True):
    name: str
    sql: str
    dataset_ref: DatasetRef | None = None
    names_taken: tuple[str, ...] = ()  # the actor's saved-query names, from the read model


class RenameSavedQuery(SavedQueryCommand, frozen=True, kw_only=True):
    name: str
    names_taken: tuple[str, ...] = ()  # may include this query's own current name


class UpdateSavedQuerySql(SavedQueryCommand, frozen=True, kw_only=True):
    sql: str


class UpdateSavedQueryDatasetRef(SavedQueryCommand, frozen=True, kw_only=True):
    dataset_ref: DatasetRef | None


class DeleteSavedQuery(SavedQueryCommand, frozen=True, kw_only=True):
    pass


# -- events ----------------------------------------------------------------------------


class SavedQueryEvent(Event, frozen=True, kw_only=True):
    saved_query_id: str
    user_id: UserId
    at: float


class QuerySaved(SavedQueryEvent, frozen=True, kw_only=True):
    """``user_id`` becomes the owner."""

    name: Name
    sql: SqlText
    dataset_ref: DatasetRef | None


class QueryRenamed(SavedQueryEvent, frozen=True, kw_only=True):
    name: Name


class QuerySqlUpdated(SavedQueryEvent, frozen=True, kw_only=True):
    sql: SqlText


class DatasetRefUpdated(SavedQueryEvent, frozen=True, kw_only=True):
    dataset_ref: DatasetRef | None


class QueryDeleted(SavedQueryEvent, frozen=True, kw_only=True):
    pass


Commands = (
    SaveQuery
    | RenameSavedQuery
    | UpdateSavedQuerySql
    | UpdateSavedQueryDatasetRef
    | DeleteSavedQuery
)
Events = QuerySaved | QueryRenamed | QuerySqlUpdated | DatasetRefUpdated | QueryDeleted
EVENTS: Final = (QuerySaved, QueryRenamed, QuerySqlUpdated, DatasetRefUpdated, QueryDeleted)


class SavedQueryState(msgspec.Struct, frozen=True, kw_only=True):
    saved_query_id: str
    owner: UserId
    name: Name
    sql: SqlText
    dataset_ref: DatasetRef | None
    updated_at: float
    deleted: bool = False


State = SavedQueryState


def _writable(state: SavedQueryState | None, actor: UserId) -> SavedQueryState:
    if state is None:
        raise errors.NotFound("no such saved query")
    ensure_owner(state.owner, actor)
    if state.deleted:
        raise errors.Deleted("this saved query was deleted")
    return state


def _unique(name: Name, names_taken: tuple[str, ...], *, own: str = "") -> Name:
    taken = {name_key(n) for n in names_taken} - {name_key(own)}
    if name_key(name) in taken:
        raise errors.NameTaken(f"you already have a saved query called {name!r}")
    return name


def _ref(ref: DatasetRef | None) -> DatasetRef | None:
    return None if ref is None else parse_dataset_ref(ref)


def decide(command: Commands, state: SavedQueryState | None) -> list[Events]:
    if isinstance(command, SaveQuery):
        if state is not None:
            raise errors.AlreadyExists(f"saved query {command.saved_query_id!r} already exists")
        return [
            QuerySaved(
                saved_query_id=parse_id(command.saved_query_id, what="saved query id"),
                user_id=parse_user_id(command.actor),
                at=parse_instant(command.at),
                name=_unique(parse_name(command.name), command.names_taken),
                sql=parse_sql(command.sql),
                dataset_ref=_ref(command.dataset_ref),
            )
        ]
    current = _writable(state, command.actor)
    at = parse_instant(command.at)
    q, u = current.saved_query_id, command.actor
    match command:
        case RenameSavedQuery():
            name = parse_name(command.name)
            if name == current.name:
                return []
            _unique(name, command.names_taken, own=current.name)
            return [QueryRenamed(saved_query_id=q, user_id=u, at=at, name=name)]
        case UpdateSavedQuerySql():
            sql = parse_sql(command.sql)
            if sql == current.sql:
                return []
            return [QuerySqlUpdated(saved_query_id=q, user_id=u, at=at, sql=sql)]
        case UpdateSavedQueryDatasetRef():
            ref = _ref(command.dataset_ref)
            if ref == current.dataset_ref:
                return []
            return [DatasetRefUpdated(saved_query_id=q, user_id=u, at=at, dataset_ref=ref)]
        case DeleteSavedQuery():
            return [QueryDeleted(saved_query_id=q, user_id=u, at=at)]
        case _:
            assert_never(command)


def evolve(state: SavedQueryState | None, event: Events) -> SavedQueryState:
    if isinstance(event, QuerySaved):
        return SavedQueryState(
            saved_query_id=event.saved_query_id,
            owner=event.user_id,
            name=event.name,
            sql=event.sql,
            dataset_ref=event.dataset_ref,
            updated_at=event.at,
        )
    if state is None:
        raise ValueError(f"{type(event).__name__} before QuerySaved")
    replace = msgspec.structs.replace
    match event:
        case QueryRenamed():
            return replace(state, name=event.name, updated_at=event.at)
        case QuerySqlUpdated():
            return replace(state, sql=event.sql, updated_at=event.at)
        case DatasetRefUpdated():
            return replace(state, dataset_ref=event.dataset_ref, updated_at=event.at)
        case QueryDeleted():
            return replace(state, deleted=True, updated_at=event.at)
        case _:
            assert_never(event)
