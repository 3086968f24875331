"""The answer as it crosses the service boundary: typed, so the API, CLI, drafts and eval runs
read the same fields and ``/openapi.json`` documents them.

The stored record (``app.answering.tables.Answer``) keeps citations, sentences and retrieval as
JSON; ``Answer.of`` and ``AnswerDetail.of`` read it back into these models, field for field,
so the JSON on the wire is what the record holds.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.answering import tables


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
    injection: str | None = Field(
        None, description="Why ingest flagged the cited passage as a possible prompt "
        "injection; None: not flagged. A flagged passage is shown as a source, marked, never "
        "as the answer.")


class Sentence(BaseModel):
    """One sentence of the answer: quoted from a chunk, or generated and checked against what
    it cites. A generated sentence the agent was not shown keeps ``shown`` False and says why."""

    text: str
    supported: bool
    citations: list[int] = Field(default_factory=list)
    inferred: bool = False
    source: Literal["quoted", "generated"] = Field(
        "generated", description="quoted: verbatim from the cited chunk; generated: the model's.")
    shown: bool = Field(True, description="Part of the shown answer.")
    why_hidden: str = Field("", description="Why a generated sentence was not shown.")


class RetrievedChunk(BaseModel):
    """One chunk put into the prompt as ``<document number="n">``, with its scores."""

    n: int
    chunk_id: str
    collection: str
    score: float = Field(description="Fused (reciprocal rank) score.")
    dense: float | None = Field(description="Cosine similarity; None if not a dense hit.")
    lexical: float | None = Field(description="BM25 score; None if not a lexical hit.")
    injection: str | None = Field(
        None, description="Flagged as a possible prompt injection (why); such a chunk was "
        "left out of the prompt or wrapped as untrusted (answering.injection).")


class Answer(BaseModel):
    """The public view of one answer."""

    answer_id: str
    answer: str = Field(description="The shown answer: documented sentences first, then the "
                        "model's supported ones (see sentences).")
    generated: str = Field("", description="The model's text as generated, before checking.")
    citations: list[Citation]
    sentences: list[Sentence]
    refused: bool
    prompt: str = Field(description="id@version of the prompt template used.")
    model: str
    latency_ms: dict[str, float | int] = Field(
        description="retrieval, queue_wait, first_token, generation, total (ms, floats) and "
                    "tokens and prompt_tokens (int counts: generated, and prompt tokens "
                    "evaluated, which leaves out a prefix reused from the previous answer).")

    @classmethod
    def of(cls, record: tables.Answer) -> Answer:
        return cls.model_validate(_public(record))


class AnswerDetail(Answer):
    """An answer with what a reviewer or evaluator needs to replay it."""

    question: str
    collections: list[str]
    retrieved: list[RetrievedChunk]
    snapshot_ids: dict[str, str | None] = Field(
        description="Per collection, the index snapshot searched; None if it had none.")
    created_at: str
    channel: str

    @classmethod
    def of(cls, record: tables.Answer) -> AnswerDetail:
        return cls.model_validate(_public(record) | {
            "question": record.question,
            "collections": record.collections,
            "retrieved": record.retrieved,
            "snapshot_ids": record.snapshot_ids,
            "created_at": record.created_at.isoformat(),
            "channel": record.channel,
        })


def _public(record: tables.Answer) -> dict[str, object]:
    return {
        "answer_id": record.id,
        "answer": record.answer,
        "generated": record.generated or "",
        "citations": record.citations,
        "sentences": record.sentences,
        "refused": record.refused,
        "prompt": f"{record.prompt_id}@{record.prompt_version}",
        "model": record.model_id,
        "latency_ms": record.latency_ms,
    }
