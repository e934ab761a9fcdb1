"""Sessions by id (what the cookie carries) and by user, plus the users seen."""

from __future__ import annotations

from ironstar.domain import session as s
from ironstar.eventstore.model import RecordedEvent
from ironstar.projections.store import Tx


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
        e = event.data
        match e:
            case s.SessionCreated():
                who = e.identity
                tx.execute(
                    "INSERT INTO sessions (session_id, user_id, provider, login, display_name, "
                    "status, created_at, expires_at) VALUES (?, ?, ?, ?, ?, 'active', ?, ?) "
                    "ON CONFLICT (session_id) DO NOTHING",
                    (
                        e.session_id,
                        e.user_id,
                        who.provider,
                        who.login,
                        who.display_name,
                        e.at,
                        e.expires_at,
                    ),
                )
                tx.execute(
                    "INSERT INTO users VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (user_id) DO "
                    "UPDATE SET login = excluded.login, display_name = excluded.display_name, "
                    "last_seen = excluded.last_seen",
                    (
                        e.user_id,
                        who.provider,
                        who.provider_user_id,
                        who.login,
                        who.display_name,
                        e.at,
                        e.at,
                    ),
                )
            case s.SessionRefreshed():
                tx.execute(
                    "UPDATE sessions SET expires_at = ?, refreshed_at = ? WHERE session_id = ?",
                    (e.expires_at, e.at, e.session_id),
                )
                tx.execute("UPDATE users SET last_seen = ? WHERE user_id = ?", (e.at, e.user_id))
            case s.SessionInvalidated():
                tx.execute(
                    "UPDATE sessions SET status = 'invalidated', ended_at = ?, end_reason = ? "
                    "WHERE session_id = ?",
                    (e.at, e.reason, e.session_id),
                )
            case s.SessionExpired():
                tx.execute(
                    "UPDATE sessions SET status = 'expired', ended_at = ?, "
                    "end_reason = 'expired' WHERE session_id = ?",
                    (e.at, e.session_id),
                )
