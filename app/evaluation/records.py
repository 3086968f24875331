"""Evaluation runs, question sets and comparisons as they cross the service boundary: typed, so
the HTTP API, the CLI, the prompt library's promotions and the tests read the same fields and
``/openapi.json`` documents them. Times are ISO 8601 strings, as the answer records write them.

A run's per-question result rows stay JSON objects: they are stored as ``eval.runner`` and
``eval.answer_metrics`` write them (a retrieval-only row has no answer fields) and read back
the same way by reports and comparisons. The pure ``eval`` package never sees these models: it
gets ``model_dump()`` dicts.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from app.core.background import JobStatus

Metrics = dict[str, int | float | None]
Origin = Literal["built-in", "uploaded"]


class RunSettings(BaseModel):
    """What a run was configured with, as stored: enough to repeat it."""

    prompt: str = Field(description="The resolved prompt version, id@version.")
    model: str | None = Field(description="The eval model asked for; None: the server's.")
    k: int = Field(description="hit@k/recall@k cut-off and chunks in the prompt.")
    retrieval_only: bool
    retrieval: dict[str, Any] = Field(description="The server's retrieval settings then.")


class RunProgress(BaseModel):
    done: int = Field(description="Questions finished.")
    total: int


class EvalRunOverview(BaseModel):
    """A run without its per-question results: what listings show (results can be megabytes
    a run)."""

    id: str
    status: JobStatus
    set_name: str
    set_hash: str = Field(description="SHA-256 of the set's file when the run started.")
    prompt: str = Field(description="id@version, resolved (answer becomes answer@3).")
    model_id: str
    config: RunSettings
    snapshot_ids: dict[str, str | None] = Field(description="The index snapshot of every "
                                                "collection the set uses.")
    progress: RunProgress
    summary: Metrics = Field(description="Run-level metrics, once the run succeeded.")
    message: str
    created_by: str
    created_at: str
    finished_at: str | None


class EvalRun(EvalRunOverview):
    """A run with every question's result row (the JSON report)."""

    results: list[dict[str, Any]] = Field(description="One row a question: its metrics, "
                                          "answer, citations and failed checks.")


class QuestionSet(BaseModel):
    """A question set runs and prompt gates can name."""

    name: str
    origin: Origin
    questions: int
    must_refuse: int = Field(description="Questions the assistant must decline.")
    sha256: str


class UnreadableSet(BaseModel):
    """A set file that no longer parses: listed with the reason, so it can be fixed."""

    name: str
    origin: Origin
    error: str


class UploadedSet(BaseModel):
    """A set just stored (never overwritten: its name keeps these questions)."""

    name: str
    questions: int
    sha256: str


class RunRef(BaseModel):
    """Which run a side of a comparison is."""

    id: str
    prompt: str
    model_id: str
    set_name: str
    set_hash: str


class MetricDelta(BaseModel):
    """One metric of B against A over the questions where both define it."""

    questions: int
    a: float
    b: float
    diff: float = Field(description="b - a.")
    ci95: list[float] = Field(description="95% paired-bootstrap interval of the difference.")
    significant: bool = Field(description="The interval excludes 0: beyond noise.")


class QuestionDelta(BaseModel):
    """A question whose headline score moved between the runs."""

    id: str
    question: str
    a: float
    b: float


class Comparison(BaseModel):
    """Run B against baseline A, question by question (``eval.compare``)."""

    a: RunRef
    b: RunRef
    same_set: bool = Field(description="Both ran the same set file (same SHA-256).")
    questions_compared: int
    metrics: dict[str, MetricDelta]
    wins: list[QuestionDelta] = Field(description="Questions B scores higher on.")
    losses: list[QuestionDelta]
    resamples: int
