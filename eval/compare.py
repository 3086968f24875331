"""Compare two runs of the same set: per-question wins and losses, and for every metric
whether the difference is larger than its noise.

Noise is judged by a paired bootstrap: the per-question differences (run B minus run A, over
the questions where the metric is defined in both) are resampled with replacement
``resamples`` times; the metric difference is called significant when the 95% interval of the
resampled mean differences excludes 0. A question is a win for B when its score (the mean of
its defined headline metrics: hit@k, key-fact coverage, groundedness, and 1/0 for a correct
refusal decision) is higher in B, a loss when lower.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

PER_QUESTION = ("hit_at_k", "recall_at_k", "reciprocal_rank", "ndcg_at_10",
                "key_fact_coverage", "evidence_coverage", "citation_precision", "groundedness",
                "refusal_correct", "latency_ms")
HEADLINE = ("hit_at_k", "key_fact_coverage", "groundedness", "refusal_correct")


def metric(row: dict[str, Any], name: str) -> float | None:
    if name == "refusal_correct":
        outcome = row.get("refusal")
        return None if outcome is None else float(outcome in ("correct_refusal", "answered"))
    value = row.get(name)
    return None if value is None else float(value)


def question_score(row: dict[str, Any]) -> float | None:
    values = [v for m in HEADLINE if (v := metric(row, m)) is not None]
    return float(np.mean(values)) if values else None


def paired_bootstrap(a: Sequence[float], b: Sequence[float], *, resamples: int = 2000,
                     seed: int = 0) -> tuple[float, float, float]:
    """(mean difference b - a, 2.5th and 97.5th percentile of the resampled means)."""
    diffs = np.asarray(b, dtype=float) - np.asarray(a, dtype=float)
    if diffs.size == 0:
        return 0.0, 0.0, 0.0
    rng = np.random.default_rng(seed)
    means = diffs[rng.integers(0, diffs.size, size=(resamples, diffs.size))].mean(axis=1)
    return float(diffs.mean()), float(np.percentile(means, 2.5)), float(np.percentile(means,
                                                                                       97.5))


def compare(run_a: dict[str, Any], run_b: dict[str, Any], *, resamples: int = 2000,
            seed: int = 0) -> dict[str, Any]:
    a_rows = {r["id"]: r for r in run_a["results"]}
    b_rows = {r["id"]: r for r in run_b["results"]}
    shared = [q for q in a_rows if q in b_rows]
    metrics = {}
    for name in PER_QUESTION:
        pairs = [(va, vb) for q in shared
                 if (va := metric(a_rows[q], name)) is not None
                 and (vb := metric(b_rows[q], name)) is not None]
        if not pairs:
            continue
        diff, low, high = paired_bootstrap([p[0] for p in pairs], [p[1] for p in pairs],
                                           resamples=resamples, seed=seed)
        mean_a = float(np.mean([p[0] for p in pairs]))
        mean_b = float(np.mean([p[1] for p in pairs]))
        metrics[name] = {"questions": len(pairs), "a": round(mean_a, 4), "b": round(mean_b, 4),
                         "diff": round(diff, 4), "ci95": [round(low, 4), round(high, 4)],
                         "significant": bool(low > 0 or high < 0)}
    wins: list[dict[str, Any]] = []
    losses: list[dict[str, Any]] = []
    for q in shared:
        sa, sb = question_score(a_rows[q]), question_score(b_rows[q])
        if sa is None or sb is None or abs(sb - sa) < 1e-9:
            continue
        entry = {"id": q, "question": a_rows[q]["question"], "a": round(sa, 4),
                 "b": round(sb, 4)}
        (wins if sb > sa else losses).append(entry)
    return {
        "a": {k: run_a[k] for k in ("id", "prompt", "model_id", "set_name", "set_hash")},
        "b": {k: run_b[k] for k in ("id", "prompt", "model_id", "set_name", "set_hash")},
        "same_set": run_a["set_hash"] == run_b["set_hash"],
        "questions_compared": len(shared),
        "metrics": metrics,
        "wins": sorted(wins, key=lambda e: e["a"] - e["b"]),
        "losses": sorted(losses, key=lambda e: e["b"] - e["a"]),
        "resamples": resamples,
    }
