"""Sessions by id (what the cookie carries) and by user, plus the users seen."""

from __future__ import annotations

from ironstar.domain import session as s
from ironstar.eventstore.model import RecordedEvent
from ironstar.projections.models._rows import Rows
from ironstar.projections.store import Tx

_SESSION_COLUMNS = (
    "session_id",
    "user_id",
    "provider",
    "login",
    "display_name",
    "status",
    "created_at",
    "expires_at",
    "refreshed_at",
    "ended_at",
    "end_reason",
)
_USER_COLUMNS = (
    "user_id",
    "provider",
    "provider_user_id",
    "login",
    "display_name",
    "first_seen",
    "last_seen",
)
# positions in a sessions row and a users row
_STATUS, _EXPIRES, _REFRESHED, _ENDED, _REASON = 5, 7, 8, 9, 10
_LOGIN, _DISPLAY, _LAST_SEEN = 3, 4, 6


class Sessions:
    name = "sessions"
    version = 1
    tables = ("sessions", "users")
    event_types = frozenset(
        {"SessionCreated", "SessionRefreshed", "SessionInvalidated", "SessionExpired"}
    )

    def create(self, tx: Tx) -> None:
        tx.execute(
            "CREATE TABLE IF NOT EXISTS sessions (session_id TEXT PRIMARY KEY, "
            "user_id TEXT NOT NULL, provider TEXT NOT NULL, login TEXT NOT NULL, "
            "display_name TEXT NOT NULL, status TEXT NOT NULL, "
            "created_at DOUBLE PRECISION NOT NULL, expires_at DOUBLE PRECISION NOT NULL, "
            "refreshed_at DOUBLE PRECISION, ended_at DOUBLE PRECISION, end_reason TEXT)"
        )
        tx.execute("CREATE INDEX IF NOT EXISTS sessions_by_user ON sessions (user_id, created_at)")
        tx.execute("CREATE INDEX IF NOT EXISTS sessions_to_expire ON sessions (status, expires_at)")
        tx.execute(
            "CREATE TABLE IF NOT EXISTS users (user_id TEXT PRIMARY KEY, provider TEXT NOT NULL, "
            "provider_user_id TEXT NOT NULL, login TEXT NOT NULL, display_name TEXT NOT NULL, "
            "first_seen DOUBLE PRECISION NOT NULL, last_seen DOUBLE PRECISION NOT NULL)"
        )

    def apply(self, tx: Tx, event: RecordedEvent) -> None:
        self.apply_page(tx, [event])

    def apply_page(self, tx: Tx, events: list[RecordedEvent]) -> None:
        sessions = Rows("sessions", _SESSION_COLUMNS)
        users = Rows("users", _USER_COLUMNS)
        sessions.load(tx, [e.data.session_id for e in events])
        users.load(tx, [e.data.user_id for e in events if type(e.data) is not s.SessionExpired])
        for event in events:
            e = event.data
            match e:
                case s.SessionCreated():
                    who = e.identity
                    sessions.insert(
                        [
                            e.session_id,
                            e.user_id,
                            who.provider,
                            who.login,
                            who.display_name,
                            "active",
                            e.at,
                            e.expires_at,
                            None,
                            None,
                            None,
                        ]
                    )
                    user = users.get(e.user_id)
                    if user is None:
                        users.insert(
                            [
                                e.user_id,
                                who.provider,
                                who.provider_user_id,
                                who.login,
                                who.display_name,
                                e.at,
                                e.at,
                            ]
                        )
                    else:
                        user[_LOGIN], user[_DISPLAY], user[_LAST_SEEN] = (
                            who.login,
                            who.display_name,
                            e.at,
                        )
                case s.SessionRefreshed():
                    if (session := sessions.get(e.session_id)) is not None:
                        session[_EXPIRES], session[_REFRESHED] = e.expires_at, e.at
                    if (user := users.get(e.user_id)) is not None:
                        user[_LAST_SEEN] = e.at
                case s.SessionInvalidated():
                    if (session := sessions.get(e.session_id)) is not None:
                        session[_STATUS], session[_ENDED], session[_REASON] = (
                            "invalidated",
                            e.at,
                            e.reason,
                        )
                case s.SessionExpired():
                    if (session := sessions.get(e.session_id)) is not None:
                        session[_STATUS], session[_ENDED], session[_REASON] = (
                            "expired",
                            e.at,
                            "expired",
                        )
        sessions.flush(tx)
        users.flush(tx)
