from __future__ import annotations

import pytest

from ironstar.domain import errors, preferences
from ironstar.domain.kernel import UserId
from ironstar.domain.preferences import (
    ClearDefaultCatalog,
    DefaultCatalogCleared,
    DefaultCatalogSet,
    InitializePreferences,
    PreferencesInitialized,
    SetDefaultCatalog,
    SetTheme,
    Theme,
    ThemeSet,
    UiStateUpdated,
    UpdateUiState,
)

from .gwt import Decider

prefs = Decider(preferences)
ADA = UserId("github:1")
BOB = UserId("github:2")
INITIALIZED = PreferencesInitialized(user_id=ADA, at=1.0, theme=Theme.SYSTEM)
DARK = ThemeSet(user_id=ADA, at=2.0, theme=Theme.DARK)
LOCAL = DefaultCatalogSet(user_id=ADA, at=3.0, catalog_id="local")


def test_stream_id_is_per_user() -> None:
    assert preferences.stream_id(ADA) == "preferences:github:1"


def test_initialize_on_first_use() -> None:
    state = (
        prefs.given().when(InitializePreferences(user_id=ADA, actor=ADA, at=1)).then(INITIALIZED)
    )
    assert (state.theme, state.default_catalog, state.ui_state) == (Theme.SYSTEM, None, {})


def test_initialize_again_changes_nothing() -> None:
    prefs.given(INITIALIZED).when(
        InitializePreferences(user_id=ADA, actor=ADA, at=5)
    ).then_nothing()


def test_the_first_command_of_any_kind_initializes_first() -> None:
    state = (
        prefs.given()
        .when(SetTheme(user_id=ADA, actor=ADA, at=1, theme=Theme.DARK))
        .then(INITIALIZED, ThemeSet(user_id=ADA, at=1.0, theme=Theme.DARK))
    )
    assert state.theme is Theme.DARK


@pytest.mark.parametrize("theme", list(Theme))
def test_set_theme(theme: Theme) -> None:
    command = SetTheme(user_id=ADA, actor=ADA, at=2, theme=theme)
    if theme is Theme.SYSTEM:  # already the initial theme
        prefs.given(INITIALIZED).when(command).then_nothing()
    else:
        state = (
            prefs.given(INITIALIZED).when(command).then(ThemeSet(user_id=ADA, at=2.0, theme=theme))
        )
        assert state.theme is theme


def test_setting_the_theme_already_set_changes_nothing() -> None:
    prefs.given(INITIALIZED, DARK).when(
        SetTheme(user_id=ADA, actor=ADA, at=3, theme=Theme.DARK)
    ).then_nothing()


def test_an_unknown_theme_is_refused() -> None:
    prefs.given(INITIALIZED).when(
        SetTheme(user_id=ADA, actor=ADA, at=3, theme="sepia")  # type: ignore[arg-type]
    ).then_rejected(errors.InvalidValue)


def test_set_and_clear_the_default_catalog() -> None:
    state = (
        prefs.given(INITIALIZED)
        .when(SetDefaultCatalog(user_id=ADA, actor=ADA, at=3, catalog_id="local"))
        .then(LOCAL)
    )
    assert state.default_catalog == "local"
    state = (
        prefs.given(INITIALIZED, LOCAL)
        .when(ClearDefaultCatalog(user_id=ADA, actor=ADA, at=4))
        .then(DefaultCatalogCleared(user_id=ADA, at=4.0))
    )
    assert state.default_catalog is None


def test_default_catalog_no_ops() -> None:
    prefs.given(INITIALIZED, LOCAL).when(
        SetDefaultCatalog(user_id=ADA, actor=ADA, at=5, catalog_id="local")
    ).then_nothing()
    prefs.given(INITIALIZED).when(ClearDefaultCatalog(user_id=ADA, actor=ADA, at=5)).then_nothing()


def test_update_ui_state_stores_canonical_json() -> None:
    state = (
        prefs.given(INITIALIZED)
        .when(UpdateUiState(user_id=ADA, actor=ADA, at=6, ui_state={"panels": (300, 200)}))
        .then(UiStateUpdated(user_id=ADA, at=6.0, ui_state={"panels": [300, 200]}))
    )
    assert state.ui_state == {"panels": [300, 200]}


def test_ui_state_is_bounded_and_must_be_json() -> None:
    big = {"blob": "x" * preferences.MAX_UI_STATE_BYTES}
    prefs.given(INITIALIZED).when(
        UpdateUiState(user_id=ADA, actor=ADA, at=6, ui_state=big)
    ).then_rejected(errors.TooLarge)
    prefs.given(INITIALIZED).when(
        UpdateUiState(user_id=ADA, actor=ADA, at=6, ui_state={"x": object()})
    ).then_rejected(errors.InvalidValue)
    for nul in ({"a": "x\x00"}, {"k\x00": 1}, {"list": ["\\\x00"]}):  # the store refuses NUL
        prefs.given(INITIALIZED).when(
            UpdateUiState(user_id=ADA, actor=ADA, at=6, ui_state=nul)
        ).then_rejected(errors.InvalidValue)
    literal = {"path": "C:\\u0000"}  # a backslash and the text u0000: no NUL, accepted
    prefs.given(INITIALIZED).when(
        UpdateUiState(user_id=ADA, actor=ADA, at=6, ui_state=literal)
    ).then(UiStateUpdated(user_id=ADA, at=6.0, ui_state=literal))


def test_same_ui_state_changes_nothing() -> None:
    stored = UiStateUpdated(user_id=ADA, at=6.0, ui_state={"a": 1})
    prefs.given(INITIALIZED, stored).when(
        UpdateUiState(user_id=ADA, actor=ADA, at=7, ui_state={"a": 1})
    ).then_nothing()


@pytest.mark.parametrize("given", [(), (INITIALIZED,)], ids=["first use", "existing"])
def test_another_user_cannot_change_someones_preferences(
    given: tuple[PreferencesInitialized, ...],
) -> None:
    prefs.given(*given).when(
        SetTheme(user_id=ADA, actor=BOB, at=2, theme=Theme.DARK)
    ).then_rejected(errors.Forbidden)
