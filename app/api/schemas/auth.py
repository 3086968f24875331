"""Sign-in and personal API tokens: the request bodies, and the envelope of a token listing
(the records themselves are in ``app.identity.records``)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.api.schemas.rules import RequestBody
from app.identity.records import Token


class LoginRequest(RequestBody):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class TokenRequest(RequestBody):
    name: str = Field("", max_length=100, description="What the token is for.")
    expires_days: int | None = Field(
        None, ge=1, le=366, description="Lifetime in days; default: the server's auth.token_days.")


class TokenList(BaseModel):
    """A user's API tokens, oldest first: prefixes only, never a secret."""

    tokens: list[Token]
