"""Search results and collection summaries as they cross the service boundary: typed, so the
API and the CLI read the same fields and ``/openapi.json`` documents them.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.knowledge.search import Hit, SearchResult


class SearchHitOut(BaseModel):
    """One retrieved chunk with its provenance and scores."""

    chunk_id: str
    score: float = Field(description="Fused (weighted reciprocal rank) score.")
    collection: str
    document: str = Field(description="Path inside the collection's folder.")
    title: str
    heading: str = Field(description="Heading path of the chunk, ' > '-joined.")
    page: int | None = Field(description="PDF page, 1-based; None for other formats.")
    text: str
    dense_score: float | None = Field(description="Cosine similarity; None: no dense hit.")
    lexical_score: float | None = Field(description="BM25 score; None: no lexical hit.")
    injection: str | None = Field(
        None, description="Why ingest flagged the chunk as a possible prompt injection; "
        "None: not flagged. A flagged chunk is data to read, never instructions.")

    @classmethod
    def of(cls, hit: Hit) -> SearchHitOut:
        return cls(chunk_id=hit.chunk_id, score=round(hit.score, 6), collection=hit.collection,
                   document=hit.document, title=hit.title, heading=hit.heading, page=hit.page,
                   text=hit.text, dense_score=hit.dense_score, lexical_score=hit.lexical_score,
                   injection=hit.injection)


class SearchResponse(BaseModel):
    """The answer to ``GET /v1/search``."""

    query: str
    results: list[SearchHitOut]
    snapshot_ids: dict[str, str | None] = Field(
        description="Per collection searched, its index snapshot; None if not indexed yet.")

    @classmethod
    def of(cls, query: str, result: SearchResult) -> SearchResponse:
        return cls(query=query, results=[SearchHitOut.of(h) for h in result.hits],
                   snapshot_ids=result.snapshot_ids)


class FlaggedPassage(BaseModel):
    """A passage that reads like instructions to a model (a possible prompt injection): it is
    kept out of the answer prompt and never leads a shown answer (README, Prompt injection)."""

    path: str = Field(description="The document, relative to the collection's folder.")
    reason: str = Field(description="What was found, with the words matched.")


class CollectionAccess(BaseModel):
    """Who may read a collection (shown to admins only)."""

    everyone: bool
    teams: list[str]


class CollectionOut(BaseModel):
    """A collection's summary; never its folder on the server."""

    name: str
    language: str = Field(description="Analysis language: en, nl, de, fr.")
    documents: int
    chunks: int
    snapshot_id: str | None = Field(description="The index being served; None: not indexed.")
    indexed_at: str | None
    embedding_model: str | None = Field(description="Model that embedded the chunks.")
    access: CollectionAccess | None = Field(
        None, description="Admins only: who may read it. Absent for everyone else.")


class CollectionList(BaseModel):
    """The answer to ``GET /v1/collections``."""

    collections: list[CollectionOut]
