"""Session: a signed-in user's session with a sliding time-to-live.

The OAuth exchange happens outside (an OAuth failure simply never creates a
session). Refreshing after the TTL has elapsed is refused with ``SessionExpired``;
the expiry sweeper then records ``SessionExpired`` with an ``ExpireSession`` command.
"""

from __future__ import annotations

import enum
from typing import Final, assert_never

import msgspec

from ironstar.domain import errors
from ironstar.domain.kernel import (
    Command,
    Event,
    UserId,
    Value,
    parse_id,
    parse_instant,
    parse_name,
    parse_text,
    parse_user_id,
)

STREAM_TYPE: Final = "session"
SNAPSHOT_SCHEMA: Final = 1
MAX_TTL_SECONDS: Final = 30 * 24 * 3600


def stream_id(session_id: str) -> str:
    return f"{STREAM_TYPE}:{session_id}"


class SignInIdentity(Value, frozen=True, kw_only=True):
    """Who the identity provider says signed in."""

    provider: str  # "github", or the OIDC issuer's short name
    provider_user_id: str
    login: str
    display_name: str


class SessionStatus(enum.StrEnum):
    ACTIVE = "active"
    INVALIDATED = "invalidated"
    EXPIRED = "expired"


# -- commands --------------------------------------------------------------------------


class CreateSession(Command, frozen=True, kw_only=True):
    session_id: str
    user_id: UserId
    identity: SignInIdentity
    ttl_seconds: float
    at: float


class RefreshSession(Command, frozen=True, kw_only=True):
    """Activity seen: slide the expiry to ``at + ttl_seconds``."""

    session_id: str
    ttl_seconds: float
    at: float


class InvalidateSession(Command, frozen=True, kw_only=True):
    session_id: str
    at: float
    reason: str = "logout"


class ExpireSession(Command, frozen=True, kw_only=True):
    session_id: str
    at: float


# -- events ----------------------------------------------------------------------------


class SessionCreated(Event, frozen=True, kw_only=True):
    session_id: str
    user_id: UserId
    identity: SignInIdentity
    expires_at: float
    at: float


class SessionRefreshed(Event, frozen=True, kw_only=True):
    session_id: str
    user_id: UserId
    expires_at: float
    at: float


class SessionInvalidated(Event, frozen=True, kw_only=True):
    session_id: str
    user_id: UserId
    reason: str
    at: float


class SessionExpired(Event, frozen=True, kw_only=True):
    session_id: str
    user_id: UserId
    expires_at: float  # when the TTL ran out; ``at`` is when the sweeper noticed
    at: float


Commands = CreateSession | RefreshSession | InvalidateSession | ExpireSession
Events = SessionCreated | SessionRefreshed | SessionInvalidated | SessionExpired
EVENTS: Final = (SessionCreated, SessionRefreshed, SessionInvalidated, SessionExpired)


class SessionState(msgspec.Struct, frozen=True, kw_only=True):
    session_id: str
    user_id: UserId
    identity: SignInIdentity
    status: SessionStatus
    created_at: float
    expires_at: float
    ended_at: float | None = None


State = SessionState


def ensure_active(state: SessionState | None, at: float) -> SessionState:
    """The session, if it may still be used at ``at``; otherwise the reason it may not."""
    if state is None:
        raise errors.NotFound("no such session")
    if state.status is SessionStatus.INVALIDATED:
        raise errors.SessionInvalidated("this session was signed out; sign in again")
    if state.status is SessionStatus.EXPIRED or at >= state.expires_at:
        raise errors.SessionExpired("this session has expired; sign in again")
    return state


def _ttl(raw: float) -> float:
    ttl = parse_instant(raw, what="session TTL")
    if not 0 < ttl <= MAX_TTL_SECONDS:
        raise errors.InvalidValue(f"session TTL must be between 0 and {MAX_TTL_SECONDS} seconds")
    return ttl


def _identity(identity: SignInIdentity) -> SignInIdentity:
    parse_id(identity.provider, what="provider")
    parse_id(identity.provider_user_id, what="provider user id")
    parse_name(identity.login, what="login")
    parse_text(identity.display_name, what="display name", limit=200)
    return identity


def decide(command: Commands, state: SessionState | None) -> list[Events]:
    match command:
        case CreateSession():
            if state is not None:
                raise errors.AlreadyExists(f"session {command.session_id!r} already exists")
            at = parse_instant(command.at)
            return [
                SessionCreated(
                    session_id=parse_id(command.session_id, what="session id"),
                    user_id=parse_user_id(command.user_id),
                    identity=_identity(command.identity),
                    expires_at=at + _ttl(command.ttl_seconds),
                    at=at,
                )
            ]
        case RefreshSession():
            at = parse_instant(command.at)
            active = ensure_active(state, at)
            expires_at = at + _ttl(command.ttl_seconds)
            if expires_at <= active.expires_at:
                return []  # never shorten; an equal expiry changes nothing
            return [
                SessionRefreshed(
                    session_id=active.session_id,
                    user_id=active.user_id,
                    expires_at=expires_at,
                    at=at,
                )
            ]
        case InvalidateSession():
            at = parse_instant(command.at)
            active = ensure_active(state, at)
            return [
                SessionInvalidated(
                    session_id=active.session_id,
                    user_id=active.user_id,
                    reason=parse_text(command.reason, what="reason", limit=200),
                    at=at,
                )
            ]
        case ExpireSession():
            if state is None:
                raise errors.NotFound("no such session")
            if state.status is SessionStatus.INVALIDATED:
                raise errors.SessionInvalidated("this session was already signed out")
            if state.status is SessionStatus.EXPIRED:
                raise errors.SessionExpired("this session has already expired")
            at = parse_instant(command.at)
            if at < state.expires_at:
                raise errors.SessionNotExpired("the session's time to live has not elapsed yet")
            return [
                SessionExpired(
                    session_id=state.session_id,
                    user_id=state.user_id,
                    expires_at=state.expires_at,
                    at=at,
                )
            ]
        case _:
            assert_never(command)


def evolve(state: SessionState | None, event: Events) -> SessionState:
    match event:
        case SessionCreated():
            return SessionState(
                session_id=event.session_id,
                user_id=event.user_id,
                identity=event.identity,
                status=SessionStatus.ACTIVE,
                created_at=event.at,
                expires_at=event.expires_at,
            )
    if state is None:
        raise ValueError(f"{type(event).__name__} before SessionCreated")
    match event:
        case SessionRefreshed():
            return msgspec.structs.replace(state, expires_at=event.expires_at)
        case SessionInvalidated():
            return msgspec.structs.replace(
                state, status=SessionStatus.INVALIDATED, ended_at=event.at
            )
        case SessionExpired():
            return msgspec.structs.replace(state, status=SessionStatus.EXPIRED, ended_at=event.at)
        case _:
            assert_never(event)
