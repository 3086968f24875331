"""Users and teams, for admins."""

from __future__ import annotations

from pydantic import BaseModel, Field


class UserCreate(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    roles: list[str] = Field(min_length=1, description="agent, reviewer, evaluator, admin.")
    teams: list[str] = Field(default_factory=list)
    password: str | None = Field(None, max_length=1024, description="At least 12 characters; "
                                 "none: the user signs in with API tokens only.")
    display_name: str = Field("", max_length=200)


class UserUpdate(BaseModel):
    roles: list[str] | None = None
    teams: list[str] | None = None
    active: bool | None = Field(None, description="false disables the account and revokes "
                                "all its tokens and sessions.")
    password: str | None = Field(None, max_length=1024)
    display_name: str | None = Field(None, max_length=200)


class TeamCreate(BaseModel):
    name: str = Field(min_length=1, max_length=64)
