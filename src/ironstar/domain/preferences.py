"""UserPreferences: one user's theme, default catalog and UI state (a stream per user).

Preferences are initialised on first use: the first command on a user's stream,
whatever it is, is preceded by ``PreferencesInitialized``.
"""

from __future__ import annotations

import enum
from typing import Any, Final, assert_never

import msgspec

from ironstar.domain import errors
from ironstar.domain.access import ensure_owner
from ironstar.domain.kernel import (
    MAX_JSON_BYTES,
    Command,
    Event,
    UserId,
    parse_id,
    parse_instant,
    parse_json_object,
    parse_user_id,
)

STREAM_TYPE: Final = "preferences"
SNAPSHOT_SCHEMA: Final = 1
MAX_UI_STATE_BYTES: Final = MAX_JSON_BYTES


def stream_id(user_id: str) -> str:
    return f"{STREAM_TYPE}:{user_id}"


class Theme(enum.StrEnum):
    LIGHT = "light"
    DARK = "dark"
    SYSTEM = "system"


# -- commands: ``user_id`` names whose preferences, ``actor`` who asks -----------------


class PreferencesCommand(Command, frozen=True, kw_only=True):
    user_id: UserId
    actor: UserId
    at: float


class InitializePreferences(PreferencesCommand, frozen=True, kw_only=True):
    pass


class SetTheme(PreferencesCommand, frozen=True, kw_only=True):
    theme: Theme


class SetDefaultCatalog(PreferencesCommand, frozen=True, kw_only=True):
    catalog_id: str


class ClearDefaultCatalog(PreferencesCommand, frozen=True, kw_only=True):
    pass


class UpdateUiState(PreferencesCommand, frozen=True, kw_only=True):
    ui_state: dict[str, Any]  # replaces the whole document (panel sizes, collapsed sections)


# -- events ----------------------------------------------------------------------------


class PreferencesEvent(Event, frozen=True, kw_only=True):
    user_id: UserId
    at: float


class PreferencesInitialized(PreferencesEvent, frozen=True, kw_only=True):
    theme: Theme


class ThemeSet(PreferencesEvent, frozen=True, kw_only=True):
    theme: Theme


class DefaultCatalogSet(PreferencesEvent, frozen=True, kw_only=True):
    catalog_id: str


class DefaultCatalogCleared(PreferencesEvent, frozen=True, kw_only=True):
    pass


class UiStateUpdated(PreferencesEvent, frozen=True, kw_only=True):
    ui_state: dict[str, Any]


Commands = (
    InitializePreferences | SetTheme | SetDefaultCatalog | ClearDefaultCatalog | UpdateUiState
)
Events = (
    PreferencesInitialized | ThemeSet | DefaultCatalogSet | DefaultCatalogCleared | UiStateUpdated
)
EVENTS: Final = (
    PreferencesInitialized,
    ThemeSet,
    DefaultCatalogSet,
    DefaultCatalogCleared,
    UiStateUpdated,
)


class PreferencesState(msgspec.Struct, frozen=True, kw_only=True):
    user_id: UserId
    theme: Theme = Theme.SYSTEM
    default_catalog: str | None = None
    ui_state: dict[str, Any] = msgspec.field(default_factory=dict)


State = PreferencesState


def _change(command: Commands, state: PreferencesState, at: float) -> list[Events]:
    u = state.user_id
    match command:
        case InitializePreferences():
            return []
        case SetTheme():
            try:
                theme = Theme(command.theme)
            except ValueError:
                raise errors.InvalidValue(f"unknown theme {command.theme!r}") from None
            return [] if theme is state.theme else [ThemeSet(user_id=u, at=at, theme=theme)]
        case SetDefaultCatalog():
            catalog_id = parse_id(command.catalog_id, what="catalog id")
            if catalog_id == state.default_catalog:
                return []
            return [DefaultCatalogSet(user_id=u, at=at, catalog_id=catalog_id)]
        case ClearDefaultCatalog():
            if state.default_catalog is None:
                return []
            return [DefaultCatalogCleared(user_id=u, at=at)]
        case UpdateUiState():
            ui_state = parse_json_object(
                command.ui_state, what="UI state", limit=MAX_UI_STATE_BYTES
            )
            if ui_state == state.ui_state:
                return []
            return [UiStateUpdated(user_id=u, at=at, ui_state=ui_state)]
        case _:
            assert_never(command)


def decide(command: Commands, state: PreferencesState | None) -> list[Events]:
    owner = state.user_id if state is not None else parse_user_id(command.user_id)
    ensure_owner(owner, command.actor)
    at = parse_instant(command.at)
    if state is not None:
        return _change(command, state, at)
    initialized = PreferencesInitialized(user_id=owner, at=at, theme=Theme.SYSTEM)
    return [initialized, *_change(command, evolve(None, initialized), at)]


def evolve(state: PreferencesState | None, event: Events) -> PreferencesState:
    if isinstance(event, PreferencesInitialized):
        return PreferencesState(user_id=event.user_id, theme=event.theme)
    if state is None:
        raise ValueError(f"{type(event).__name__} before PreferencesInitialized")
    replace = msgspec.structs.replace
    match event:
        case ThemeSet():
            return replace(state, theme=event.theme)
        case DefaultCatalogSet():
            return replace(state, default_catalog=event.catalog_id)
        case DefaultCatalogCleared():
            return replace(state, default_catalog=None)
        case UiStateUpdated():
            return replace(state, ui_state=event.ui_state)
        case _:
            assert_never(event)
