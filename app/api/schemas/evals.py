"""Evaluation runs and question sets: requests, and the envelopes of the listings (the
records themselves are ``app.evaluation.records``)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.evaluation.records import EvalRunOverview, QuestionSet, UnreadableSet


class EvalRunRequest(BaseModel):
    set: str = Field(description="A question set: built-in (eval/sets) or uploaded.")
    prompt: str = Field("answer", max_length=80, description="'answer' (production) or "
                        "'answer@3' from any zone.")
    model: str | None = Field(None, max_length=500, description="One of the server's "
                              "eval_models; default the server's model.")
    k: int = Field(5, ge=1, le=20, description="hit@k/recall@k cut-off and chunks in the prompt.")
    retrieval_only: bool = Field(False, description="No LLM: retrieval metrics and the "
                                 "refusal decision only (fast; what CI runs).")


class SetUpload(BaseModel):
    name: str = Field(max_length=64)
    jsonl: str = Field(max_length=200_000, description="The set, one JSON object a line.")


class SetList(BaseModel):
    sets: list[QuestionSet | UnreadableSet]


class RunList(BaseModel):
    runs: list[EvalRunOverview] = Field(description="Newest first, without their results.")
