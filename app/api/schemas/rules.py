"""What a request may hold, said once so that ``/openapi.json`` and the validation agree.

- ``RequestBody``: every JSON body is validated strictly, as its schema reads: ``0`` is not
  ``false``, ``"5"`` is not ``5``; but ``5.0`` is ``5``, as in JSON.
- ``IsoTime``: a time parameter is ISO 8601 text; a bare number (which pydantic would read as
  a Unix timestamp) is refused. Without an offset it is UTC.
- ``Id``, ``Name``, ``PromptRef``, ``VersionRef``: path parameters, bounded (an unknown one is
  404, an over-long one 422); ``VersionRef`` names a version, ``id@version``.
- ``NON_BLANK`` and ``schema_only``: a rule a service checks itself, with its own error code
  (``empty_question``, ``weak_password``, ...), declared in the schema too, so a client (and
  the fuzzer) knows it before asking. The service stays the one that enforces it.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from fastapi import Path
from pydantic import BaseModel, BeforeValidator, ConfigDict, model_validator

# JSON Schema patterns are searched for, not anchored: "holds a character that is not space"
NON_BLANK: dict[str, Any] = {"minLength": 1, "pattern": r"\S"}
_ISO_START = re.compile(r"\d{4}-\d{2}-\d{2}")


class RequestBody(BaseModel):
    """A JSON request body, taken exactly as its schema says (strict validation)."""

    model_config = ConfigDict(strict=True)

    @model_validator(mode="before")
    @classmethod
    def _json_numbers(cls, data: Any) -> Any:
        """JSON has one kind of number: ``5.0`` is the integer 5, as JSON Schema reads it
        (strict validation alone would refuse it where an integer is declared)."""
        return _integral(data)


def _integral(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _integral(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_integral(v) for v in value]
    return value


def schema_only(**rules: Any) -> dict[str, Any]:
    """``json_schema_extra`` for rules the service enforces with its own error code."""
    return rules


def _iso_text(value: object) -> object:
    if isinstance(value, int | float) or (isinstance(value, str)
                                          and not _ISO_START.match(value.strip())):
        raise ValueError("an ISO 8601 time, e.g. 2026-05-01T09:00:00Z")
    return value


IsoTime = Annotated[datetime, BeforeValidator(_iso_text)]
# path parameters: ids as the API handed them out, names as NAME and USERNAME spell them
Id = Annotated[str, Path(max_length=64, description="As the API returned it.")]
Name = Annotated[str, Path(max_length=64)]
PromptRef = Annotated[str, Path(max_length=200, description="A prompt id, or id@version.")]
VersionRef = Annotated[str, Path(pattern=r"^[^@]+@[0-9]+$", max_length=200,
                                 description="A prompt version: id@version, e.g. answer@3.")]
