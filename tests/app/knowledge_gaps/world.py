"""A hand-made history for the knowledge-gaps tests: answers stored with chosen times,
questions, collections, refusals, votes and citations, as the answering service stores them."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path

from sqlalchemy import update

from app.answering.tables import Answer
from app.core.tables import utcnow
from app.feedback.tables import AnswerFeedback
from app.knowledge.tables import Document
from app.wiring import Services
from tests.conftest import write_kb

SECRET_KB = {"salaries.md": "# Salaries\n\nThe salary scales are revised every April.\n"}


def stored(services: Services, question: str, *, days_ago: float = 1,
           collections: Iterable[str] = ("kb",), refused: bool = False, down: bool = False,
           up: bool = False, cites: Iterable[tuple[str, str]] = (),
           channel: str = "chat") -> str:
    """Store one answer ``days_ago`` days old (and a vote on it); returns its id."""
    answer_id = uuid.uuid4().hex
    with services.sessions() as session:
        session.add(Answer(
            id=answer_id, created_at=utcnow() - timedelta(days=days_ago), channel=channel,
            question=question, collections=list(collections), retrieved=[], prompt_id="answer",
            prompt_version=1, model_id="fake-llm", snapshot_ids={}, answer="", generated="",
            citations=[{"n": n, "chunk_id": "c", "collection": c, "document": d, "title": d,
                        "heading": "", "page": None, "quote": ""}
                       for n, (c, d) in enumerate(cites, start=1)],
            sentences=[], refused=refused, latency_ms={}, total_ms=0.0))
        session.flush()
        if down or up:
            session.add(AnswerFeedback(answer_id=answer_id, user_id=999,
                                       vote="down" if down else "up"))
        session.commit()
    return answer_id


def secret_collection(services: Services, tmp_path: Path) -> None:
    """A second collection, "secret", that nobody but an admin reads."""
    services.collections.upsert("secret", write_kb(tmp_path / "secret", SECRET_KB), "en")
    services.indexer.sync("secret")


def indexed_days_ago(services: Services, days: float) -> None:
    """As if every document had been indexed ``days`` ago."""
    with services.sessions() as session:
        session.execute(update(Document).values(indexed_at=utcnow() - timedelta(days=days)))
        session.commit()
