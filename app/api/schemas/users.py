"""Users and teams, for admins: the request bodies and the envelopes of the listings (the
records themselves are in ``app.identity.records``).

Roles arrive as plain strings and are checked by the user service, so an unknown role gets
the same ``invalid_role`` error over HTTP as on the command line; the schema still lists the
vocabulary (``app.identity.tables.ROLES``) as an enum for generated clients.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, WithJsonSchema

from app.api.schemas.rules import RequestBody, schema_only
from app.core.names import USERNAME_PATTERN
from app.identity.records import Team, User
from app.identity.tables import ROLES
from app.identity.users import MIN_PASSWORD

RoleName = Annotated[str, WithJsonSchema({"type": "string", "enum": list(ROLES)})]
# checked by the user service (invalid_user_name, invalid_team_name, weak_password)
A_NAME = schema_only(pattern=USERNAME_PATTERN)
A_PASSWORD = schema_only(minLength=MIN_PASSWORD)


class UserCreate(RequestBody):
    username: str = Field(min_length=1, max_length=64, json_schema_extra=A_NAME)
    roles: list[RoleName] = Field(min_length=1, description=f"{', '.join(ROLES)}.")
    teams: list[str] = Field(default_factory=list)
    password: str | None = Field(None, max_length=1024, json_schema_extra=A_PASSWORD,
                                 description=f"At least {MIN_PASSWORD} characters; none: the "
                                 "user signs in with API tokens only.")
    display_name: str = Field("", max_length=200)


class UserUpdate(RequestBody):
    roles: list[RoleName] | None = Field(None, description="Replaces the user's roles.",
                                         json_schema_extra=schema_only(minItems=1))
    teams: list[str] | None = Field(None, description="Replaces the user's teams.")
    active: bool | None = Field(None, description="false disables the account and revokes "
                                "all its tokens and sessions.")
    password: str | None = Field(None, max_length=1024, json_schema_extra=A_PASSWORD)
    display_name: str | None = Field(None, max_length=200)


class TeamCreate(RequestBody):
    name: str = Field(min_length=1, max_length=64, json_schema_extra=A_NAME)


class UserList(BaseModel):
    """Every user, by username."""

    users: list[User]


class TeamList(BaseModel):
    """Every team with its members, by name."""

    teams: list[Team]
