"""Users, teams, API tokens and sign-ins as they cross the service boundary: typed, so the
HTTP API, the CLI and the tests read the same fields and ``/openapi.json`` documents them.

Nothing secret is ever a plain field: a password hash never leaves the tables, a token's
secret is only in ``NewToken`` (the one response that hands it out), and a session's cookie
secret is a ``SecretStr`` left out of every serialisation. Times are ISO 8601 strings, as the
answer records write them.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, Field, SecretStr

from app.core.principal import Principal, Via
from app.identity.tables import Role


class User(BaseModel):
    """A user account (a person or a token-only service account)."""

    id: int = Field(exclude=True, description="Database id, for services; never on the wire.")
    username: str
    display_name: str
    roles: list[Role]
    teams: list[str] = Field(description="Team names, sorted.")
    active: bool = Field(description="false: disabled; every token and session refused.")
    password_set: bool = Field(description="false: no password sign-in (API tokens or "
                               "single sign-on only).")
    created_at: str


class Team(BaseModel):
    """A group of users that collections are granted to."""

    name: str
    members: list[str] = Field(description="Usernames, sorted.")


class Token(BaseModel):
    """A personal API token as listings show it: its prefix, never its secret."""

    id: str = Field(description="What revoking names.")
    name: str = Field(description="What the token is for.")
    prefix: str = Field(description="The token's first characters (vbk_...), shown in clear.")
    created_at: str
    expires_at: str | None = Field(description="None: never expires.")
    last_used_at: str | None = Field(description="Updated at most once a minute.")
    revoked: bool
    expired: bool


class NewToken(Token):
    """A token just created: the only response that carries its secret (it is stored hashed)."""

    token: str = Field(description="The whole token; shown this once.")


class Me(BaseModel):
    """The signed-in caller: who they are, how they proved it and what they may read."""

    username: str
    roles: list[Role]
    teams: list[str]
    collections: list[str] = Field(description="Collections this caller may read.")
    via: Via

    @classmethod
    def of(cls, principal: Principal, readable: Iterable[str]) -> Me:
        return cls(username=principal.username, roles=sorted(principal.roles),
                   teams=sorted(principal.teams), collections=sorted(readable),
                   via=principal.via)


class SignIn(BaseModel):
    """A successful password sign-in. The cookie secret goes into an HttpOnly cookie, never
    into a body; the CSRF token is what the page must echo in ``X-CSRF-Token``."""

    username: str
    roles: list[Role]
    teams: list[str]
    csrf_token: str = Field(description="Send as X-CSRF-Token with every state-changing "
                            "request made with the session cookie.")
    expires_at: str
    session_secret: SecretStr = Field(exclude=True, description="The session cookie's value.")


class OIDCSync(BaseModel):
    """What a single sign-on did to the user it signed in, for the audit trail."""

    user: User
    created: bool = Field(description="The first sign-in: the user was created.")
    changed: bool = Field(description="Roles or teams differ from the last sign-in's.")
    new_teams: list[str] = Field(description="Teams the group mapping named that were created.")
