"""What the review feature hands across its service boundary: typed, so the API, the CLI and
the tests read the same fields and ``/openapi.json`` documents them.

Inbound, a reviewer's ``Rating`` and a ``QueueFilter``. Outbound, three views of one draft,
by who is looking: ``QueueItem`` (a row of the reviewer's queue), ``AuthorDraft`` (the
agent's: never approved text before approval) and ``Draft`` (the reviewer's full view: both
of those plus the evidence, the history and the webhooks); then the webhook deliveries, the
test cases made from reviewed drafts and the statistics. ``Draft``, ``DraftEvent`` and
``EvalCandidate`` share their names with SQLAlchemy classes of ``app.review.tables``; modules
that need both import the tables under a ``Row`` alias.

Times are aware ``datetime`` objects in Python and ``isoformat()`` text on the wire, as
before the records existed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema

from app.answering.records import Citation, Sentence
from app.core.errors import InvalidInput
from app.review.vocabulary import (
    REASONS,
    RUBRIC,
    SCORE_MAX,
    SCORE_MIN,
    Action,
    Criterion,
    DeliveryStatus,
    Grouping,
    Reason,
    State,
    Tone,
    valid_scores,
)

Timestamp = Annotated[datetime, PlainSerializer(datetime.isoformat, return_type=str,
                                                when_used="json"),
                      WithJsonSchema({"type": "string", "format": "date-time"})]


@dataclass(frozen=True)
class Rating:
    """A reviewer's rating of a decision: every rubric criterion 1-5, a comment and, for a
    rejection, one of the reasons. The queue checks it whoever calls (API, CLI or a script)."""

    scores: Mapping[str, int]
    comment: str = ""
    reason: str | None = None

    def check(self, *, reject: bool) -> None:
        if not valid_scores(self.scores):
            raise InvalidInput(f"scores needs {', '.join(RUBRIC)}, each "
                               f"{SCORE_MIN}-{SCORE_MAX}", code="invalid_scores")
        if reject and self.reason not in REASONS:
            raise InvalidInput(f"a rejection needs a reason: {', '.join(REASONS)}",
                               code="invalid_reason")


@dataclass(frozen=True)
class QueueFilter:
    """What the queue listing picks out; None is no filter. ``state`` is a plain string so a
    command line can pass what it was given: an unknown state matches nothing."""

    state: str | None = None
    collection: str | None = None
    team: str | None = None
    min_age_s: float | None = None
    assignee: str | None = None
    newest_first: bool = False
    limit: int = 100


class Customer(BaseModel):
    """Who the reply is for; the agent sends it, the approval webhook hands it back."""

    model_config = ConfigDict(frozen=True)

    name: str = Field("", max_length=200, description="How the reply addresses the customer.")
    language: str = Field("en", max_length=40, description="en, nl, de, fr or a language name.")
    ticket_id: str = Field("", max_length=100, description="The ticketing system's id; sent "
                           "back with the approval webhook.")


class Decision(BaseModel):
    """The reviewer's last word: approved, rejected (with a reason) or changes requested."""

    state: State
    comment: str
    reason: Reason | None
    decided_at: Timestamp | None = Field(description="Null while changes are requested.")


class AuthorDraft(BaseModel):
    """The agent's view of their draft: the working text while under review, the approved
    text only once approved (never both), and the decision."""

    draft_id: str
    state: State
    question: str
    collections: list[str]
    customer: Customer
    tone: Tone
    refused: bool
    draft_text: str | None = Field(description="The working text; null once approved.")
    approved_text: str | None = Field(description="Null until approved.")
    decision: Decision | None
    created_at: Timestamp
    submitted_at: Timestamp = Field(description="The last (re)submission.")
    answer_id: str


class QueueItem(BaseModel):
    """One draft in the reviewer's queue (its question cut to 200 characters)."""

    draft_id: str
    state: State
    question: str
    collections: list[str]
    ticket_id: str
    author: str | None
    teams: list[str] = Field(description="The author's teams when they asked.")
    assignee: str | None = Field(description="Who holds a live claim; null if none.")
    claim_expires_at: Timestamp | None
    age_s: float = Field(description="Seconds since the last (re)submission.")
    prompt: str = Field(description="id@version of the prompt template used.")
    model: str
    refused: bool


class ReviewQueuePage(BaseModel):
    """A page of the queue. ``total``, ``counts`` and the SLA figure describe everything the
    reviewer may see, whatever the filters picked out of it."""

    drafts: list[QueueItem]
    total: int = Field(description="Drafts matching the filters (before the limit).")
    counts: dict[State, int]
    oldest_pending_age_s: float | None = Field(description="The queue's SLA figure.")


class DraftEvent(BaseModel):
    """One transition of a draft: who, when, from which state to which."""

    at: Timestamp
    actor: str
    action: Action
    from_state: State | Literal[""] = Field(serialization_alias="from",
                                             description="Empty for the creation.")
    to_state: State = Field(serialization_alias="to")
    note: str


class WebhookAttemptOut(BaseModel):
    at: Timestamp
    status_code: int | None = Field(description="Null when no response came back.")
    error: str
    duration_ms: float


class WebhookDeliveryOut(BaseModel):
    """One approval announced to one URL, with every attempt so far."""

    id: str = Field(description="Sent as X-Vraagbaak-Delivery, for the receiver to dedupe.")
    url: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: Timestamp | None = Field(description="Set only while pending.")
    delivered_at: Timestamp | None
    history: list[WebhookAttemptOut]


class Draft(AuthorDraft, QueueItem):
    """The reviewer's full view: the queue row and the agent's view of the draft (with the
    whole question), what the model saw and wrote, the texts, the rating and the history."""

    citations: list[Citation] = Field(default_factory=list)
    sentences: list[Sentence] = Field(default_factory=list)
    retrieved: list[dict[str, Any]] = Field(default_factory=list)
    snapshot_ids: dict[str, str] = Field(default_factory=dict)
    model_answer: str | None = Field(None, description="The answer with its [n] markers.")
    generated_text: str = Field(description="What the model wrote; never changes.")
    text: str = Field(description="The working copy.")
    final_text: str | None = Field(description="Set only on approval.")
    edit_distance: float | None = Field(
        description="Normalised Levenshtein distance, generated to approved text.")
    scores: dict[Criterion, int] | None
    decided_by: str | None
    events: list[DraftEvent]
    webhooks: list[WebhookDeliveryOut]


class EvalCandidate(BaseModel):
    """A reviewed draft as a test case, in the question-set format of ``eval.sets_format``:
    ``reference_answer`` only for an approved draft, ``must_not`` only for a rejected one
    (drop the nulls when writing a line: ``model_dump(exclude_none=True)``)."""

    id: str
    question: str
    collections: list[str]
    expected_documents: list[str]
    key_facts: list[str]
    must_refuse: bool
    tags: list[str]
    reference_answer: str | None = None
    must_not: list[str] | None = None


class Quantiles(BaseModel):
    p50: float | None
    p90: float | None


class StatsFigures(BaseModel):
    """The figures of a group of drafts (definitions in ``app.review.stats``)."""

    drafts: int
    pending: int = Field(description="Pending or in review.")
    approved: int
    rejected: int
    changes_requested: int
    approval_rate: float | None
    approved_as_is_rate: float | None
    mean_scores: dict[Criterion, float | None]
    mean_edit_distance: float | None
    first_review_s: Quantiles
    decision_s: Quantiles
    rejection_reasons: dict[Reason, int]


class StatsGroup(StatsFigures):
    key: str = Field(description="The prompt, model, collection, team, reviewer or ISO week.")


class StatsReport(BaseModel):
    group_by: Grouping
    groups: list[StatsGroup]
    overall: StatsFigures
