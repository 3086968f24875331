"""A question set through search alone, once per search mode (bm25, dense, hybrid).

Modes reuse one index: ``dense`` is fusion with only the dense ranking weighted, ``bm25`` with
only the full-query BM25 ranking (the identifier ranking over codes in the question is switched
off too), and ``hybrid`` the settings as given. Chunks whose fused score is 0 (found only by a
switched-off ranking) are dropped, so a mode never borrows another's results. The metrics
themselves are the pure ones in ``eval.retrieval``.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Iterable, Sequence

from sqlalchemy.orm import Session, sessionmaker

from app.core.settings import RetrievalSettings
from app.knowledge.search import SearchService, SnapshotStore
from eval.retrieval import MODES, RetrievalMetrics, unique_documents
from eval.sets_format import EvalQuestion
from models.pool import EmbedderPool


def settings_for_mode(base: RetrievalSettings, mode: str) -> RetrievalSettings:
    """``base`` with one ranking alone (``dense``/``bm25``) or as is (``hybrid``)."""
    if mode == "dense":
        return base.model_copy(update={"dense_weight": 1.0, "lexical_weight": 0.0,
                                       "identifier_weight": 0.0})
    if mode == "bm25":
        return base.model_copy(update={"dense_weight": 0.0, "lexical_weight": 1.0,
                                       "identifier_weight": 0.0})
    if mode == "hybrid":
        return base
    raise ValueError(f"unknown mode '{mode}' (known: {', '.join(MODES)})")


def ranked_documents(search: SearchService, question: EvalQuestion) -> list[str]:
    """Distinct documents for ``question`` in rank order, over all fused candidates."""
    names = list(question.collections)
    result = search.search(question.question, names, allowed=set(names), k=10_000)
    return unique_documents(h.document for h in result.candidates if h.score > 0)


def evaluate(search: SearchService, questions: Iterable[EvalQuestion]) -> RetrievalMetrics:
    """Metrics of one configured search over the answerable questions."""
    rankings: list[tuple[Sequence[str], Collection[str]]] = []
    total_ms = 0.0
    for q in questions:
        if not q.answerable:
            continue
        started = time.perf_counter()
        ranked = ranked_documents(search, q)
        total_ms += (time.perf_counter() - started) * 1000
        rankings.append((ranked, set(q.expected_documents)))
    return RetrievalMetrics.from_rankings(rankings, total_ms)


def evaluate_modes(sessions: sessionmaker[Session], embedders: EmbedderPool,
                   snapshots: SnapshotStore, questions: Sequence[EvalQuestion], *,
                   base: RetrievalSettings | None = None,
                   modes: Sequence[str] = MODES) -> dict[str, RetrievalMetrics]:
    """Metrics per mode; each mode is a ``SearchService`` with its own settings on the same
    sessions, embedders and snapshots (pass ``cached_pool(...)`` to embed each question
    once)."""
    base = base or RetrievalSettings.model_validate({})
    return {
        mode: evaluate(SearchService(sessions, embedders, snapshots,
                                     settings_for_mode(base, mode)), questions)
        for mode in modes
    }
