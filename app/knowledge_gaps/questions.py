"""The questions a knowledge gap is made of, and their embeddings, cached per answer.

A question counts when its answer was refused, or someone voted the answer down, within the
window; evaluation runs (channel ``eval``) are test sets and don't count, and a question
blanked by the retention job has nothing left to group. Only the collections of ``scope``
are kept on a question, and a question that searched none of them is not there at all: a
collection the viewer may not see is never named.

Embeddings are made by the default embedder and stored by answer id with the hash of the
text and the model's id, so a report embeds only questions it has not seen (or whose text or
model changed); a page view of an unchanged window embeds nothing. The vector of a question
the retention job blanked is derived from text that is gone: ``forget_blanked`` removes it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection as Names
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt
from sqlalchemy import delete, exists, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.answering.tables import Answer
from app.feedback.tables import AnswerFeedback
from app.knowledge_gaps.tables import QuestionVector
from models.embedder import EmbedderProtocol

_BATCH = 500


@dataclass(frozen=True)
class GapQuestion:
    answer_id: str
    question: str
    collections: tuple[str, ...]  # those of the scope only
    created_at: datetime
    refused: bool
    voted_down: bool


def gap_questions(session: Session, scope: Names[str], since: datetime,
                  limit: int) -> list[GapQuestion]:
    """The most recent ``limit`` questions since ``since`` that were refused or voted down
    and searched a collection of ``scope``, newest first."""
    down = select(AnswerFeedback.answer_id).where(AnswerFeedback.vote == "down")
    query = (select(Answer.id, Answer.question, Answer.collections, Answer.created_at,
                    Answer.refused, Answer.id.in_(down))
             .where(Answer.created_at >= since, Answer.channel != "eval",
                    or_(Answer.refused.is_(True), Answer.id.in_(down)))
             .order_by(Answer.created_at.desc(), Answer.id)
             .execution_options(yield_per=_BATCH))
    found: list[GapQuestion] = []
    result = session.execute(query)
    try:
        for answer_id, question, collections, created_at, refused, voted_down in result:
            seen = tuple(sorted({c for c in collections or () if c in scope}))
            if seen and question.strip():
                found.append(GapQuestion(answer_id, question, seen, created_at, bool(refused),
                                         bool(voted_down)))
                if len(found) >= limit:
                    break
    finally:
        result.close()  # a streamed cursor left open would hold its connection's results
    return found


def forget_blanked(session: Session) -> None:
    """Remove the cached vectors of questions blanked since they were embedded (commits).
    Driven by the cache (each row one primary-key look-up in ``answers``), not by a scan of
    every answer."""
    session.execute(delete(QuestionVector).where(exists().where(
        Answer.id == QuestionVector.answer_id, Answer.question == "")))
    session.commit()


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def question_vectors(session: Session, questions: Sequence[GapQuestion],
                     embedder: EmbedderProtocol) -> npt.NDArray[np.float32]:
    """One row per question, from the cache where it holds this text by this model, else
    embedded now and stored (commits)."""
    ids = [q.answer_id for q in questions]
    cached: dict[str, QuestionVector] = {}
    for start in range(0, len(ids), _BATCH):
        cached.update((row.answer_id, row) for row in session.scalars(
            select(QuestionVector).where(QuestionVector.answer_id.in_(ids[start:start + _BATCH]))))
    vectors: dict[str, npt.NDArray[np.float32]] = {}
    todo: list[GapQuestion] = []
    for q in questions:
        row = cached.get(q.answer_id)
        if row is not None and row.model_id == embedder.model_id and row.text_hash == _hash(
                q.question):
            vectors[q.answer_id] = np.frombuffer(row.vector, dtype=np.float32)
        else:
            todo.append(q)
    if todo:
        made = np.asarray(embedder.embed([q.question for q in todo]), dtype=np.float32)
        for q, vector in zip(todo, made, strict=True):
            vectors[q.answer_id] = vector
            row = cached.get(q.answer_id)
            if row is None:
                session.add(QuestionVector(answer_id=q.answer_id, model_id=embedder.model_id,
                                           text_hash=_hash(q.question), vector=vector.tobytes()))
            else:
                row.model_id, row.text_hash = embedder.model_id, _hash(q.question)
                row.vector = vector.tobytes()
        try:
            session.commit()
        except IntegrityError:  # another report cached some of them meanwhile: same vectors
            session.rollback()
    if not questions:
        return np.zeros((0, embedder.dimension), dtype=np.float32)
    return np.stack([vectors[q.answer_id] for q in questions])
