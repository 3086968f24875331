"""The NPS pulse's request: a score 0-10 (the response is ``app.pulse.records.PulseStatus``)."""

from __future__ import annotations

from pydantic import Field

from app.api.schemas.rules import RequestBody
from app.pulse.records import SCORE_MAX, SCORE_MIN


class PulseAnswer(RequestBody):
    """Your answer to "How likely are you to recommend Vraagbaak to a colleague?"."""

    score: int = Field(ge=SCORE_MIN, le=SCORE_MAX,
                       description=f"{SCORE_MIN} (not at all likely) to {SCORE_MAX} "
                       "(extremely likely).")
