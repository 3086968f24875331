"""The answer as it crosses the service boundary: typed, so the API, CLI, drafts and eval runs
read the same fields and ``/openapi.json`` documents them."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class Citation(BaseModel):
    """A ``[n]`` marker of the answer, checked against the chunks actually retrieved."""

    n: int = Field(description="The marker's number in the answer text.")
    chunk_id: str
    collection: str
    document: str = Field(description="Path inside the collection's folder.")
    title: str
    heading: str = Field(description="Heading path of the chunk, ' > '-joined.")
    page: int | None = Field(None, description="PDF page, 1-based; None for other formats.")
    quote: str = Field(description="The source sentence that best matches the question.")
    inferred: bool = Field(False, description="Attached by the product, not by the model.")


class Sentence(BaseModel):
    """One generated sentence and whether its cited evidence supports it."""

    text: str
    supported: bool
    citations: list[int] = Field(default_factory=list)
    inferred: bool = False


class Answer(BaseModel):
    """The public view of one answer."""

    answer_id: str
    answer: str
    citations: list[Citation]
    sentences: list[Sentence]
    refused: bool
    prompt: str = Field(description="id@version of the prompt template used.")
    model: str
    latency_ms: dict[str, float] = Field(description="retrieval, queue_wait, first_token, "
                                         "generation, total (ms) and tokens.")


class AnswerDetail(Answer):
    """An answer with what a reviewer or evaluator needs to replay it."""

    question: str
    collections: list[str]
    retrieved: list[dict[str, Any]]
    snapshot_ids: dict[str, str]
    created_at: str
    channel: str
