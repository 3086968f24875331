"""Users and teams, for admins: the request bodies and the envelopes of the listings (the
records themselves are in ``app.identity.records``).

Roles arrive as plain strings and are checked by the user service, so an unknown role gets
the same ``invalid_role`` error over HTTP as on the command line; the schema still lists the
vocabulary (``app.identity.tables.ROLES``) as an enum for generated clients.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, WithJsonSchema

from app.identity.records import Team, User
from app.identity.tables import ROLES

RoleName = Annotated[str, WithJsonSchema({"type": "string", "enum": list(ROLES)})]


class UserCreate(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    roles: list[RoleName] = Field(min_length=1, description=f"{', '.join(ROLES)}.")
    teams: list[str] = Field(default_factory=list)
    password: str | None = Field(None, max_length=1024, description="At least 12 characters; "
                                 "none: the user signs in with API tokens only.")
    display_name: str = Field("", max_length=200)


class UserUpdate(BaseModel):
    roles: list[RoleName] | None = Field(None, description="Replaces the user's roles.")
    teams: list[str] | None = Field(None, description="Replaces the user's teams.")
    active: bool | None = Field(None, description="false disables the account and revokes "
                                "all its tokens and sessions.")
    password: str | None = Field(None, max_length=1024)
    display_name: str | None = Field(None, max_length=200)


class TeamCreate(BaseModel):
    name: str = Field(min_length=1, max_length=64)


class UserList(BaseModel):
    """Every user, by username."""

    users: list[User]


class TeamList(BaseModel):
    """Every team with its members, by name."""

    teams: list[Team]
