from __future__ import annotations

import pytest

from ironstar.domain import errors, session
from ironstar.domain.kernel import UserId
from ironstar.domain.session import (
    CreateSession,
    ExpireSession,
    InvalidateSession,
    RefreshSession,
    SessionCreated,
    SessionExpired,
    SessionInvalidated,
    SessionRefreshed,
    SessionStatus,
    SignInIdentity,
)

from .gwt import Decider

sessions = Decider(session)
ADA = UserId("github:1")
IDENTITY = SignInIdentity(
    provider="github", provider_user_id="1", login="ada", display_name="Ada Lovelace"
)
CREATED = SessionCreated(
    session_id="s1", user_id=ADA, identity=IDENTITY, expires_at=1_100.0, at=1_000.0
)
INVALIDATED = SessionInvalidated(session_id="s1", user_id=ADA, reason="logout", at=1_010.0)
EXPIRED = SessionExpired(session_id="s1", user_id=ADA, expires_at=1_100.0, at=1_200.0)


def create(**changes: object) -> CreateSession:
    fields: dict[str, object] = dict(
        session_id="s1", user_id=ADA, identity=IDENTITY, ttl_seconds=100, at=1_000
    )
    fields.update(changes)
    return CreateSession(**fields)  # type: ignore[arg-type]


def test_stream_id() -> None:
    assert session.stream_id("s1") == "session:s1"


def test_create_from_a_sign_in_identity_starts_the_ttl() -> None:
    state = sessions.given().when(create()).then(CREATED)
    assert state.status is SessionStatus.ACTIVE
    assert state.expires_at == 1_100.0


def test_create_twice_is_refused() -> None:
    sessions.given(CREATED).when(create()).then_rejected(errors.AlreadyExists)


@pytest.mark.parametrize("ttl", [0, -5, session.MAX_TTL_SECONDS + 1, float("nan")])
def test_create_with_a_bad_ttl_is_refused(ttl: float) -> None:
    sessions.given().when(create(ttl_seconds=ttl)).then_rejected(errors.InvalidValue)


def test_create_with_an_empty_login_is_refused() -> None:
    bad = SignInIdentity(provider="github", provider_user_id="1", login=" ", display_name="")
    sessions.given().when(create(identity=bad)).then_rejected(errors.InvalidName)


def test_create_with_a_blank_session_id_is_refused() -> None:
    sessions.given().when(create(session_id="a b")).then_rejected(errors.InvalidId)


def test_refresh_slides_the_expiry() -> None:
    state = (
        sessions.given(CREATED)
        .when(RefreshSession(session_id="s1", ttl_seconds=100, at=1_050))
        .then(SessionRefreshed(session_id="s1", user_id=ADA, expires_at=1_150.0, at=1_050.0))
    )
    assert state.expires_at == 1_150.0


def test_refresh_that_would_not_extend_the_expiry_changes_nothing() -> None:
    sessions.given(CREATED).when(
        RefreshSession(session_id="s1", ttl_seconds=50, at=1_050)
    ).then_nothing()


@pytest.mark.parametrize("at", [1_100, 1_500])
def test_refresh_once_the_ttl_has_elapsed_is_refused_as_expired(at: float) -> None:
    sessions.given(CREATED).when(
        RefreshSession(session_id="s1", ttl_seconds=100, at=at)
    ).then_rejected(errors.SessionExpired)


def test_refresh_of_an_unknown_session_is_not_found() -> None:
    sessions.given().when(RefreshSession(session_id="s1", ttl_seconds=1, at=1)).then_rejected(
        errors.NotFound
    )


def test_logout_invalidates_the_session() -> None:
    state = (
        sessions.given(CREATED).when(InvalidateSession(session_id="s1", at=1_010)).then(INVALIDATED)
    )
    assert state.status is SessionStatus.INVALIDATED
    assert state.ended_at == 1_010.0


@pytest.mark.parametrize(
    "command",
    [
        RefreshSession(session_id="s1", ttl_seconds=100, at=1_020),
        InvalidateSession(session_id="s1", at=1_020),
        ExpireSession(session_id="s1", at=2_000),
    ],
)
def test_nothing_is_accepted_on_an_invalidated_session(command: object) -> None:
    sessions.given(CREATED, INVALIDATED).when(command).then_rejected(errors.SessionInvalidated)


@pytest.mark.parametrize(
    "command",
    [
        RefreshSession(session_id="s1", ttl_seconds=100, at=1_300),
        InvalidateSession(session_id="s1", at=1_300),
        ExpireSession(session_id="s1", at=1_300),
    ],
)
def test_nothing_is_accepted_on_an_expired_session(command: object) -> None:
    sessions.given(CREATED, EXPIRED).when(command).then_rejected(errors.SessionExpired)


def test_expire_once_the_ttl_has_really_elapsed() -> None:
    state = sessions.given(CREATED).when(ExpireSession(session_id="s1", at=1_200)).then(EXPIRED)
    assert state.status is SessionStatus.EXPIRED


def test_expire_before_the_ttl_elapsed_is_refused() -> None:
    sessions.given(CREATED).when(ExpireSession(session_id="s1", at=1_099.5)).then_rejected(
        errors.SessionNotExpired
    )


def test_expire_respects_a_refresh() -> None:
    refreshed = SessionRefreshed(session_id="s1", user_id=ADA, expires_at=1_300.0, at=1_200.0)
    sessions.given(CREATED, refreshed).when(ExpireSession(session_id="s1", at=1_250)).then_rejected(
        errors.SessionNotExpired
    )


def test_ensure_active_says_why_a_session_cannot_be_used() -> None:
    state = sessions.given(CREATED).state
    assert session.ensure_active(state, 1_099.0) is state
    with pytest.raises(errors.SessionExpired):
        session.ensure_active(state, 1_100.0)  # the TTL elapsed, even before the sweeper ran
    with pytest.raises(errors.SessionInvalidated):
        session.ensure_active(sessions.given(CREATED, INVALIDATED).state, 1_020.0)
    with pytest.raises(errors.NotFound):
        session.ensure_active(None, 0.0)
