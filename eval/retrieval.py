"""Document-level retrieval metrics, pure functions over ranked document lists.

Relevance is binary and per document: a hit counts when its ``Hit.document`` (the path relative
to the collection folder) is one of the question's ``expected_documents``. Chunk hits are first
collapsed to documents, keeping each document's best (first) rank, so hit@k, recall@k, MRR@10
and nDCG@10 are computed over the ranked list of distinct documents.
The runner that scores a set per search mode is ``app.evaluation.retrieval_modes``.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass

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
