"""The one list of where question texts are stored: every table holding text a person wrote
or was shown about their question, with the time column that ages it. The retention job
(``app.privacy.retention``) reads this list and nothing else, so a feature that stores such
text adds its table here and is covered.

An entry names:

* ``texts``: plain text columns, blanked to ``""`` (a NULL stays NULL: on ``drafts.final_text``
  it means "not approved", which the figures read);
* ``json``: JSON columns holding text inside a structure, rewritten per row so the structure
  stays (an answer's citations keep their documents and chunk ids, for the knowledge gaps'
  "documents not cited in N days"; its sentences keep their support flags);
* ``keep``: rows that must not be touched yet (a draft still in review needs its texts and
  its answer; a hand-off not yet delivered needs its payload);
* ``deletable``: whether ``retention_mode = "delete"`` removes the rows (else it blanks them);
* ``derived``: the rows are a cache made from the texts (a question's embedding): removed in
  either mode, since blanking a vector is removing it, and the feature makes it again;
* ``vectors``: nullable columns of a row that stays, holding a vector made from a text (a
  knowledge issue's question embedding): set to NULL in either mode, and a row counts as done
  once they are NULL;
* ``at`` is a column name, or a function giving the time expression when the row's age is
  another row's (a cached vector ages with its answer: ``select(Answer.created_at)...``).

A row counts as done once its ``texts`` are blank, its constant ``json`` columns hold their
blank value and its ``vectors`` are NULL, so an entry needs at least one of those to mark its
rows done.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, func, select

from app.answering.tables import Answer, Conversation
from app.feedback.tables import AnswerFeedback, HandoffDelivery
from app.knowledge_gaps.tables import QuestionVector
from app.knowledge_issues.tables import KnowledgeIssue, KnowledgeIssueReport
from app.review.tables import Draft, DraftEvent, WebhookDelivery

IN_REVIEW = ("pending", "in_review", "changes_requested")
"""Draft states still in the review workflow: their texts and answers are kept."""


@dataclass(frozen=True)
class JsonText:
    """A JSON column and how to blank the text inside it. ``blank`` set: the column becomes
    that constant, and a row whose column already holds it is done."""

    column: str
    rewrite: Callable[[Any], Any]
    blank: Any = None


@dataclass(frozen=True)
class Retained:
    table: type[Any]
    at: str | Callable[[], Any]
    texts: tuple[str, ...] = ()
    json: tuple[JsonText, ...] = ()
    keep: Callable[[], ColumnElement[bool]] | None = None
    vectors: tuple[str, ...] = ()
    deletable: bool = True
    derived: bool = False
    note: str = field(default="", compare=False)

    @property
    def name(self) -> str:
        return str(self.table.__tablename__)

    def time(self) -> Any:
        """The expression a row's age is read from."""
        return getattr(self.table, self.at) if isinstance(self.at, str) else self.at()


def _blank_key(key: str) -> Callable[[Any], Any]:
    """Blank ``key`` in every object of a JSON list (citations' quotes, sentences' text)."""
    def rewrite(items: Any) -> Any:
        if not isinstance(items, list):
            return items
        return [{**item, key: ""} if isinstance(item, dict) and key in item else item
                for item in items]
    return rewrite


def _blank_customer(customer: Any) -> Any:
    """The customer's name goes; the reply's language and the ticket reference stay."""
    return {**customer, "name": ""} if isinstance(customer, dict) else {}


def _empty(_: Any) -> Any:
    return {}


def _drafts_in_review() -> Any:
    return select(Draft.id).where(Draft.state.in_(IN_REVIEW))


def _issue_answered_at() -> Any:
    """A knowledge issue's question vector is its first report's question: it ages with that
    answer, or with the issue once the answer is gone."""
    answered = select(Answer.created_at).where(
        Answer.id == KnowledgeIssue.answer_id).scalar_subquery()
    return func.coalesce(answered, KnowledgeIssue.created_at)


REGISTRY: list[Retained] = [
    # before the answers: deleting an answer sets the issue's answer_id to NULL
    Retained(KnowledgeIssue, _issue_answered_at, vectors=("question_vector",), deletable=False,
             note="the issue stays; later reports join it by the chunks they cite"),
    Retained(Answer, "created_at", texts=("question", "answer", "generated"),
             json=(JsonText("citations", _blank_key("quote")),
                   JsonText("sentences", _blank_key("text"))),
             keep=lambda: Answer.id.in_(select(Draft.answer_id).where(
                 Draft.state.in_(IN_REVIEW))),
             note="answers a draft in review reads are kept"),
    Retained(AnswerFeedback, "updated_at", texts=("comment",)),
    Retained(HandoffDelivery, "created_at", json=(JsonText("payload", _empty, {}),),
             keep=lambda: HandoffDelivery.status == "pending"),
    Retained(Conversation, "updated_at", texts=("title",)),
    Retained(Draft, "created_at",
             texts=("question", "generated_text", "text", "final_text", "comment"),
             json=(JsonText("customer", _blank_customer),),
             keep=lambda: Draft.state.in_(IN_REVIEW)),
    Retained(DraftEvent, "at", texts=("note",),
             keep=lambda: DraftEvent.draft_id.in_(_drafts_in_review())),
    Retained(WebhookDelivery, "created_at", json=(JsonText("payload", _empty, {}),),
             keep=lambda: WebhookDelivery.status == "pending"),
    # the one text a reporter typed; the report itself (kind, reasons) keeps counting
    Retained(KnowledgeIssueReport, "created_at", texts=("comment",), deletable=False),
    # the knowledge gaps' cached question embeddings age with their answers
    Retained(QuestionVector, lambda: select(Answer.created_at).where(
        Answer.id == QuestionVector.answer_id).scalar_subquery(), derived=True),
]
"""Every table with question texts. Other features append their entries here."""
