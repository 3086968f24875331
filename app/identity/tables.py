"""Who may see what: users, teams, API tokens, sign-in sessions and collection grants.

Secrets are never stored: API tokens and session tokens are stored as SHA-256 digests (they are
256-bit random strings, so a fast hash is enough), passwords as argon2 hashes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, get_args

from sqlalchemy import JSON, Boolean, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.tables import Base, utcnow

Role = Literal["agent", "reviewer", "evaluator", "manager", "admin"]
"""The roles a user can hold: the one vocabulary that the request schemas, the role checks of
the HTTP layer and the CLI read. Admins hold every role (``Principal.has``); ``manager`` sees the
adoption figures (aggregates only) and nothing else."""
ROLES: tuple[Role, ...] = get_args(Role)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(Text, default="")
    # None: no password sign-in (token-only service accounts, or an OIDC identity)
    password_hash: Mapped[str | None] = mapped_column(Text, default=None)
    # the OIDC provider's ``sub`` for this person (app/identity/oidc.py); None: not linked
    oidc_subject: Mapped[str | None] = mapped_column(String(255), unique=True, index=True,
                                                     default=None)
    roles: Mapped[list[Role]] = mapped_column(JSON, default=list)  # written via check_roles
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Membership(Base):
    __tablename__ = "memberships"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    team_id: Mapped[int] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True, index=True)


class Grant(Base):
    """Team ``team_id`` may read collection ``collection_id``. Read for everyone is the
    collection's ``public`` flag, so it is one explicit switch, not a magic team."""

    __tablename__ = "grants"

    collection_id: Mapped[int] = mapped_column(
        ForeignKey("collections.id", ondelete="CASCADE"), primary_key=True)
    team_id: Mapped[int] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    prefix: Mapped[str] = mapped_column(String(16), unique=True)  # shown in listings
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)


class LoginSession(Base):
    """A password sign-in for the web pages: an HttpOnly cookie plus a CSRF token that every
    state-changing request made with the cookie must echo in a header."""

    __tablename__ = "login_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
