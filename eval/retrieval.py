"""Document-level retrieval metrics, and a runner that scores a question set per search mode.

Relevance is binary and per document: a hit counts when its ``Hit.document`` (the path relative
to the collection folder) is one of the question's ``expected_documents``. Chunk hits are first
collapsed to documents, keeping each document's best (first) rank, so hit@k, recall@k, MRR@10
and nDCG@10 are computed over the ranked list of distinct documents.

Modes reuse one index: ``dense`` is fusion with only the dense ranking weighted, ``bm25`` with
only the full-query BM25 ranking (the identifier ranking over codes in the question is switched
off too), and ``hybrid`` the settings as given. Chunks whose fused score is 0 (found only by a
switched-off ranking) are dropped, so a mode never borrows another's results.
"""

from __future__ import annotations

import math
import time
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass

from sqlalchemy.orm import Session, sessionmaker

from app.search import SearchService, SnapshotStore
from app.settings import RetrievalSettings
from eval.sets_format import EvalQuestion
from models.embedder import EmbedderProtocol, Vectors
from models.pool import EmbedderPool

MODES = ("bm25", "dense", "hybrid")


def unique_documents(documents: Iterable[str]) -> list[str]:
    """Documents in first-seen order, each once (its best rank)."""
    return list(dict.fromkeys(documents))


def hit_at_k(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    """1.0 if any relevant document is among the first ``k``, else 0.0."""
    return 1.0 if any(d in relevant for d in ranked[:k]) else 0.0


def recall_at_k(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    """Share of the relevant documents found among the first ``k``."""
    if not relevant:
        return 0.0
    return len(set(ranked[:k]) & set(relevant)) / len(set(relevant))


def reciprocal_rank(ranked: Sequence[str], relevant: Collection[str], k: int = 10) -> float:
    """1 / rank of the first relevant document within the first ``k`` (0.0 if none)."""
    for rank, doc in enumerate(ranked[:k], start=1):
        if doc in relevant:
            return 1.0 / rank
    return 0.0


def ndcg_at_k(ranked: Sequence[str], relevant: Collection[str], k: int = 10) -> float:
    """Binary-relevance nDCG@k: DCG of the ranking over the DCG of a perfect ranking."""
    if not relevant:
        return 0.0
    dcg = sum(1.0 / math.log2(rank + 1)
              for rank, doc in enumerate(ranked[:k], start=1) if doc in relevant)
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(len(set(relevant)), k) + 1))
    return dcg / ideal


@dataclass(frozen=True)
class RetrievalMetrics:
    """Mean metrics over the answerable questions of a set."""

    questions: int
    hit_at_1: float
    hit_at_5: float
    recall_at_5: float
    recall_at_10: float
    mrr_at_10: float
    ndcg_at_10: float
    mean_search_ms: float

    @classmethod
    def from_rankings(cls, rankings: Sequence[tuple[Sequence[str], Collection[str]]],
                      total_ms: float = 0.0) -> RetrievalMetrics:
        n = len(rankings)

        def mean(values: Iterable[float]) -> float:
            return sum(values) / n if n else 0.0

        return cls(
            questions=n,
            hit_at_1=mean(hit_at_k(r, rel, 1) for r, rel in rankings),
            hit_at_5=mean(hit_at_k(r, rel, 5) for r, rel in rankings),
            recall_at_5=mean(recall_at_k(r, rel, 5) for r, rel in rankings),
            recall_at_10=mean(recall_at_k(r, rel, 10) for r, rel in rankings),
            mrr_at_10=mean(reciprocal_rank(r, rel, 10) for r, rel in rankings),
            ndcg_at_10=mean(ndcg_at_k(r, rel, 10) for r, rel in rankings),
            mean_search_ms=total_ms / n if n else 0.0,
        )

    def as_dict(self) -> dict[str, float]:
        return {k: round(float(v), 4) for k, v in asdict(self).items()}


class CachedQueryEmbedder:
    """Wraps an embedder and remembers single-text calls, so a question set run through
    several modes or fusion settings embeds every question only once."""

    def __init__(self, inner: EmbedderProtocol) -> None:
        self._inner = inner
        self._cache: dict[str, Vectors] = {}

    @property
    def model_id(self) -> str:
        return self._inner.model_id

    @property
    def dimension(self) -> int:
        return self._inner.dimension

    def embed(self, texts: Sequence[str]) -> Vectors:
        if len(texts) != 1:
            return self._inner.embed(texts)
        if texts[0] not in self._cache:
            self._cache[texts[0]] = self._inner.embed(texts)
        return self._cache[texts[0]]


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


def cached_pool(pool: EmbedderPool) -> EmbedderPool:
    """A pool whose default embedder caches query embeddings (other models come from
    ``pool``), for running one question set through many search settings."""
    return EmbedderPool(CachedQueryEmbedder(pool.default), pool.get)


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


def format_table(rows: Mapping[str, RetrievalMetrics], title: str = "") -> str:
    """A fixed-width text table, one row per label."""
    cols = ("hit@1", "hit@5", "R@5", "R@10", "MRR@10", "nDCG@10", "ms/q")
    width = max([len(title), 12, *(len(label) for label in rows)])
    lines = [f"{title:<{width}} " + " ".join(f"{c:>8}" for c in cols)]
    for label, m in rows.items():
        values = (m.hit_at_1, m.hit_at_5, m.recall_at_5, m.recall_at_10, m.mrr_at_10,
                  m.ndcg_at_10)
        lines.append(f"{label:<{width}} " + " ".join(f"{v:>8.4f}" for v in values)
                     + f" {m.mean_search_ms:>8.1f}")
    return "\n".join(lines)
