"""Personal API tokens and sign-in sessions: random secrets handed out once, stored hashed.

A token reads ``vbk_<prefix>_<secret>``. The prefix is stored in clear so listings can show
which token is which and lookups are one indexed query; the whole token is stored only as its
SHA-256 digest and compared in constant time. Sessions work the same way, plus a CSRF token
that a cookie-authenticated request must echo in a header to change anything.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from app.core.errors import InvalidInput, NotFound, Unauthorized
from app.core.principal import Via
from app.core.tables import utcnow
from app.identity.records import Token
from app.identity.tables import ApiToken, LoginSession
from app.identity.tables import User as UserRow

TOKEN_PREFIX = "vbk_"
MAX_TOKEN_DAYS = 366
_LAST_USED_EVERY = timedelta(minutes=1)  # don't turn every request into a write


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class Credential:
    """What a valid token or session resolves to, before the user's roles are loaded."""

    user_id: int
    credential_id: str
    via: Via


class TokenService:
    def __init__(self, sessions: sessionmaker[Session], *, session_hours: float) -> None:
        self._sessions = sessions
        self._session_hours = session_hours

    # -- API tokens --------------------------------------------------------------------------
    def create(self, user_id: int, *, name: str = "", expires_days: int | None = 90,
               ) -> tuple[str, Token]:
        """A new token: the secret (shown once, never stored) and its listing."""
        if expires_days is not None and not 1 <= expires_days <= MAX_TOKEN_DAYS:
            raise InvalidInput(f"expires_days must be 1-{MAX_TOKEN_DAYS}",
                               code="invalid_expiry")
        prefix = secrets.token_hex(4)
        token = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
        row = ApiToken(id=uuid.uuid4().hex, user_id=user_id, name=name[:100], prefix=prefix,
                       token_hash=digest(token),
                       expires_at=utcnow() + timedelta(days=expires_days)
                       if expires_days else None)
        with self._sessions() as session:
            session.add(row)
            session.commit()
        return token, token_view(row)

    def list(self, user_id: int) -> list[Token]:
        with self._sessions() as session:
            rows = session.scalars(select(ApiToken).where(ApiToken.user_id == user_id)
                                   .order_by(ApiToken.created_at)).all()
        return [token_view(r) for r in rows]

    def revoke(self, token_id: str, *, user_id: int | None = None) -> Token:
        """Revoke a token; with ``user_id``, only one of that user's (else 404)."""
        with self._sessions() as session:
            row = session.get(ApiToken, token_id)
            if row is None or (user_id is not None and row.user_id != user_id):
                raise NotFound("token not found", code="token_not_found")
            if row.revoked_at is None:
                row.revoked_at = utcnow()
                session.commit()
            return token_view(row)

    def resolve(self, token: str) -> Credential:
        parts = token.split("_")
        if len(parts) < 3 or not token.startswith(TOKEN_PREFIX):
            raise Unauthorized("that is not a Vraagbaak API token", code="invalid_token")
        with self._sessions() as session:
            row = session.scalars(select(ApiToken).where(ApiToken.prefix == parts[1])).first()
            if row is None or not hmac.compare_digest(row.token_hash, digest(token)):
                raise Unauthorized("the API token is not valid", code="invalid_token")
            now = utcnow()
            if row.revoked_at is not None:
                raise Unauthorized("the API token has been revoked", code="token_revoked")
            if row.expires_at is not None and row.expires_at <= now:
                raise Unauthorized("the API token has expired", code="token_expired")
            if row.last_used_at is None or now - row.last_used_at > _LAST_USED_EVERY:
                row.last_used_at = now
                session.commit()
            return Credential(row.user_id, row.id, "token")

    def revoke_all(self, user_id: int) -> None:
        """Disabling a user ends their tokens and sessions at once."""
        now = utcnow()
        with self._sessions() as session:
            session.execute(update(ApiToken).where(ApiToken.user_id == user_id,
                                                   ApiToken.revoked_at.is_(None))
                            .values(revoked_at=now))
            session.execute(update(LoginSession).where(LoginSession.user_id == user_id,
                                                       LoginSession.revoked_at.is_(None))
                            .values(revoked_at=now))
            session.commit()

    # -- sign-in sessions --------------------------------------------------------------------
    def open_session(self, user_id: int) -> tuple[str, str, datetime]:
        """(cookie secret, CSRF token, expiry) for a fresh sign-in."""
        secret, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
        expires = utcnow() + timedelta(hours=self._session_hours)
        with self._sessions() as session:
            session.add(LoginSession(id=uuid.uuid4().hex, user_id=user_id,
                                     token_hash=digest(secret), csrf_hash=digest(csrf),
                                     expires_at=expires))
            session.commit()
        return secret, csrf, expires

    def resolve_session(self, secret: str, *, csrf: str | None, changes_state: bool,
                        ) -> Credential:
        with self._sessions() as session:
            row = session.scalars(select(LoginSession)
                                  .where(LoginSession.token_hash == digest(secret))).first()
        if row is None or row.revoked_at is not None or row.expires_at <= utcnow():
            raise Unauthorized("the session has ended; sign in again", code="session_expired")
        if changes_state and not (csrf and hmac.compare_digest(row.csrf_hash, digest(csrf))):
            raise Unauthorized("a request signed in by cookie must send its X-CSRF-Token",
                               code="csrf_failed")
        return Credential(row.user_id, row.id, "session")

    def session_expiry(self, credential_id: str | None) -> datetime | None:
        """When a sign-in session ends (None for a token or an unknown id): shown on pages."""
        if credential_id is None:
            return None
        with self._sessions() as session:
            return session.scalar(select(LoginSession.expires_at)
                                  .where(LoginSession.id == credential_id))

    def close_session(self, credential_id: str) -> None:
        with self._sessions() as session:
            session.execute(update(LoginSession).where(LoginSession.id == credential_id)
                            .values(revoked_at=utcnow()))
            session.commit()

    def load_user(self, session: Session, user_id: int) -> UserRow:
        user = session.get(UserRow, user_id)
        if user is None or not user.active:
            raise Unauthorized("this account is disabled", code="account_disabled")
        return user


def token_view(row: ApiToken) -> Token:
    """The listing of a token row: its prefix and state, never its digest."""
    expired = row.expires_at is not None and row.expires_at <= utcnow()
    return Token(id=row.id, name=row.name, prefix=f"{TOKEN_PREFIX}{row.prefix}",
                 created_at=row.created_at.isoformat(),
                 expires_at=row.expires_at.isoformat() if row.expires_at else None,
                 last_used_at=row.last_used_at.isoformat() if row.last_used_at else None,
                 revoked=row.revoked_at is not None, expired=expired)
