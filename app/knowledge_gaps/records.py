"""What a knowledge-gaps report holds, as the API, the page and the tests read it: the topics
of questions the knowledge base could not answer well, the documents nobody cites, and the
documents that are old by their own date."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field

from app.review.records import Timestamp

Trend = Literal["new", "rising", "steady", "falling"]
"""How a topic's second half of the window compares with its first: ``new`` (none in the
first half), ``rising`` (at least half as many again), ``falling`` (at most half as many),
else ``steady``."""

TRENDS: tuple[Trend, ...] = ("new", "rising", "steady", "falling")


@dataclass(frozen=True)
class GapQuery:
    """The report asked for: each field None means the configured default (GapSettings)."""

    window_days: int | None = None
    uncited_days: int | None = None
    max_age_days: int | None = None


class CollectionCount(BaseModel):
    name: str
    questions: int = Field(description="Questions of the topic that searched this collection.")


class Topic(BaseModel):
    """Questions refused or voted down that are about the same thing."""

    label: str = Field(description="The question nearest the topic's centre.")
    questions: int = Field(description="How many questions the topic holds.")
    refused: int = Field(description="Of those, how many were refused.")
    voted_down: int = Field(description="Of those, how many were voted down by someone.")
    earlier: int = Field(description="Questions in the first half of the window.")
    recent: int = Field(description="Questions in the second half of the window.")
    trend: Trend
    last_asked_at: Timestamp
    examples: list[str] = Field(description="A few of its questions, nearest the centre "
                                "first.")
    collections: list[CollectionCount] = Field(description="The collections its questions "
                                               "searched (only those you may see), most "
                                               "searched first.")


class GapDocument(BaseModel):
    collection: str
    path: str = Field(description="Path inside the collection's folder.")
    title: str
    dated_at: Timestamp | None = Field(description="The document's own date (or its file "
                                       "time); null until its collection is re-indexed "
                                       "after the upgrade that added dates.")
    dated_from: str | None = Field(description="Where the date was read, e.g. "
                                   "markdown:updated, pdf:ModDate, docx:modified, "
                                   "html:dcterms.modified, file:mtime.")
    indexed_at: Timestamp
    last_cited_at: Timestamp | None = Field(description="The last answer that cited it; "
                                            "null if none ever did.")


class DocumentList(BaseModel):
    total: int = Field(description="How many documents match, all of them counted.")
    documents: list[GapDocument] = Field(description="The first of them (gaps.max_documents).")


class GapReport(BaseModel):
    """The admin's and owners' to-do list for the knowledge base, over the collections the
    viewer may read and owns (an admin: all)."""

    generated_at: Timestamp
    window_days: int
    uncited_days: int
    max_age_days: int
    collections: list[str] = Field(description="The collections this report covers.")
    questions: int = Field(description="Questions refused or voted down in the window "
                           "(those clustered: at most gaps.max_questions, the most recent).")
    topics: list[Topic] = Field(description="Largest first.")
    uncited: DocumentList = Field(description="Documents no answer cited in uncited_days "
                                  "(documents indexed more recently are left out: they "
                                  "have not had the time), never-cited first, then "
                                  "longest-uncited.")
    old: DocumentList = Field(description="Documents dated more than max_age_days ago, "
                              "oldest first.")
    undated: int = Field(description="Documents without a date yet (indexed before dates "
                         "were read; the next re-index dates them).")
