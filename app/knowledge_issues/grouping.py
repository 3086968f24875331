"""Similar reports, one issue: which open issue a new report belongs to.

A report joins an open issue of the same collection when its question is close to the
issue's (cosine of the question vectors at least ``knowledge_issues.group_threshold``, both
made by the same embedding model) or when its answer cites a chunk the issue's answers cite.
The question is embedded with the collection's own embedder, as search embeds it; vectors are
L2-normalised float32, so the inner product is the cosine, and they are stored as float32
bytes like chunk vectors.
"""

from __future__ import annotations

from collections.abc import Collection as Names
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.knowledge.tables import Collection
from app.knowledge_issues.tables import IssueDocument, KnowledgeIssue
from models.pool import EmbedderPool


@dataclass(frozen=True)
class QuestionVector:
    model: str
    vector: npt.NDArray[np.float32]

    def to_bytes(self) -> bytes:
        return self.vector.astype(np.float32).tobytes()


def embed_question(session: Session, embedders: EmbedderPool, collection: str,
                   question: str) -> QuestionVector:
    """The question as the collection's embedder sees it (the server's for an unknown one)."""
    setting = session.scalar(select(Collection.embedder).where(Collection.name == collection))
    embedder = embedders.get(setting)
    vector = np.asarray(embedder.embed([question])[0], dtype=np.float32)
    return QuestionVector(embedder.model_id, vector)


def cosine(stored: bytes | None, vector: npt.NDArray[np.float32]) -> float:
    """The cosine of a stored vector with ``vector``; -1 for none or another dimension."""
    if not stored:
        return -1.0
    other = np.frombuffer(stored, dtype=np.float32)
    if other.shape != vector.shape:
        return -1.0
    return float(np.dot(other, vector))


def matching_issue(session: Session, collection: str, question: QuestionVector,
                   chunk_ids: Names[str], *, threshold: float, candidates: int
                   ) -> KnowledgeIssue | None:
    """The open issue of ``collection`` the report belongs to, or None for a new one: the
    closest question at or above ``threshold`` first, else the latest issue citing one of
    ``chunk_ids``. Only the ``candidates`` most recently reported open issues are compared."""
    issues: Sequence[KnowledgeIssue] = session.scalars(
        select(KnowledgeIssue).where(KnowledgeIssue.collection == collection,
                                     KnowledgeIssue.state == "open")
        .order_by(KnowledgeIssue.last_reported_at.desc()).limit(candidates)).all()
    if not issues:
        return None
    scored = [(cosine(i.question_vector, question.vector), i) for i in issues
              if i.embedding_model == question.model]
    best = max(scored, key=lambda pair: pair[0], default=None)
    if best is not None and best[0] >= threshold:
        return best[1]
    if not chunk_ids:
        return None
    wanted = set(chunk_ids)
    by_id = {i.id: i for i in issues}
    cited = session.execute(select(IssueDocument.issue_id, IssueDocument.chunk_ids)
                            .where(IssueDocument.issue_id.in_(list(by_id))))
    sharing = {issue_id for issue_id, chunks in cited if wanted & set(chunks)}
    for issue in issues:  # newest report first
        if issue.id in sharing:
            return issue
    return None
