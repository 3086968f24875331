"""The adoption figures: the baseline request (the responses are ``app.analytics.records``)."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

from pydantic import BeforeValidator, Field

from app.api.schemas.rules import RequestBody

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _day_text(value: object) -> object:
    """Only ``YYYY-MM-DD`` text: a number is not a day (pydantic would read a timestamp)."""
    if not isinstance(value, str) or not _DAY.fullmatch(value):
        raise ValueError("a day as YYYY-MM-DD, e.g. 2026-03-01")
    return value


IsoDay = Annotated[date, BeforeValidator(_day_text), Field(strict=False)]


class BaselineRequest(RequestBody):
    """The baseline period: whole days, both inclusive (UTC; the earlier of the two is the
    start), read as whole ISO weeks from 2000 to 2099. Weeks without data count nothing."""

    start: IsoDay = Field(description="First day, YYYY-MM-DD.")
    end: IsoDay = Field(description="Last day, YYYY-MM-DD.")
