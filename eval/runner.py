"""What a run is configured with and how its per-question rows add up to a summary.

The part that drives search and the answer service question by question lives in
``app.evaluation.runner``; this module stays pure so metrics, reports and gates can be used
(and tested) without the application.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from eval.answer_metrics import aggregate


@dataclass(frozen=True)
class RunConfig:
    prompt: str = "answer"  # an id (its production version) or id@version from any zone
    model: str | None = None  # None: the server's model
    k: int = 5  # hit@k / recall@k cut-off, and chunks put into the prompt
    retrieval_only: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def set_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def summarise(rows: Sequence[dict[str, Any]], config: RunConfig) -> dict[str, Any]:
    """Run-level metrics; retrieval ones over the answerable questions."""
    answerable = [r for r in rows if not r["must_refuse"]]

    def mean(key: str) -> float | None:
        values = [r[key] for r in answerable if key in r]
        return round(float(np.mean(values)), 4) if values else None

    summary: dict[str, Any] = {
        "questions": len(rows), "answerable": len(answerable),
        "must_refuse": len(rows) - len(answerable), "k": config.k,
        "hit_at_k": mean("hit_at_k"), "recall_at_k": mean("recall_at_k"),
        "mrr_at_10": mean("reciprocal_rank"), "ndcg_at_10": mean("ndcg_at_10"),
    }
    answer = aggregate(rows)
    if config.retrieval_only:  # no generated answer: only what the refusal gate decides
        answer = {k: v for k, v in answer.items()
                  if k in ("refusal_accuracy", "false_refusal_rate", "latency_p50_ms",
                           "latency_p95_ms")}
    return summary | answer
