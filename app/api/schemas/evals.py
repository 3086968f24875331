"""Evaluation runs and question sets: requests, and the envelopes of the listings (the
records themselves are ``app.evaluation.records``)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.api.schemas.rules import NON_BLANK, RequestBody, schema_only
from app.core.names import NAME_PATTERN
from app.evaluation.records import EvalRunOverview, QuestionSet, UnreadableSet

SET_NAME = schema_only(pattern=NAME_PATTERN)


class EvalRunRequest(RequestBody):
    set: str = Field(description="A question set: built-in (eval/sets) or uploaded.",
                     json_schema_extra=SET_NAME)
    prompt: str = Field("answer", max_length=80, description="'answer' (production) or "
                        "'answer@3' from any zone.")
    model: str | None = Field(None, max_length=500, description="One of the server's "
                              "eval_models; default the server's model.")
    k: int = Field(5, ge=1, le=20, description="hit@k/recall@k cut-off and chunks in the prompt.")
    retrieval_only: bool = Field(False, description="No LLM: retrieval metrics and the "
                                 "refusal decision only (fast; what CI runs).")


class SetUpload(RequestBody):
    name: str = Field(max_length=64, description="Lower-case letters, digits, - and _; never "
                      "reused.", json_schema_extra=SET_NAME)
    jsonl: str = Field(max_length=200_000, json_schema_extra=NON_BLANK,
                       description="The set, one JSON object a line (eval/sets_format.py), "
                       "each question over collections you may read; a wrong line is refused "
                       "with its number (invalid_set).")


class SetList(BaseModel):
    sets: list[QuestionSet | UnreadableSet]


class RunList(BaseModel):
    runs: list[EvalRunOverview] = Field(description="Newest first, without their results.")
