"""Run a question set through retrieval and answering, question by question.

For every answerable question the fused search is scored against its expected documents
(hit@k, recall@k, reciprocal rank@10, nDCG@10, document level as in ``eval.retrieval``). Then
the question is prepared the way chat prepares it, so the refusal decision is measured even in
a retrieval-only run (it needs no LLM); a full run also generates the answer and scores it
with ``eval.answer_metrics``. Rows are plain dicts so a run stores and reports them as JSON;
the typed ``Answer`` is dumped into them here, at the edge of the pure ``eval`` package.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from collections.abc import Collection as Names
from typing import Any

from app.answering.service import AnswerService
from app.core.principal import Principal
from app.knowledge.search import SearchService
from eval.answer_metrics import refusal_outcome, score_answer
from eval.retrieval import hit_at_k, ndcg_at_k, recall_at_k, reciprocal_rank, unique_documents
from eval.runner import RunConfig
from eval.sets_format import EvalQuestion
from prompts.zones import ZONES as ANY_ZONE

CITATION_FIELDS = {"n", "document", "page", "quote", "inferred"}  # what a run row keeps


def run_question(q: EvalQuestion, config: RunConfig, *, search: SearchService,
                 answers: AnswerService, evaluator: Principal,
                 allowed: Names[str]) -> dict[str, Any]:
    row: dict[str, Any] = {"id": q.id, "question": q.question, "must_refuse": q.must_refuse,
                           "expected_documents": list(q.expected_documents),
                           "key_facts": list(q.key_facts), "tags": list(q.tags)}
    collections = list(q.collections)
    if q.answerable:
        result = search.search(q.question, collections, allowed=allowed, k=10_000)
        ranked = unique_documents(h.document for h in result.candidates if h.score > 0)
        relevant = set(q.expected_documents)
        row |= {"ranked": ranked[:10], "hit_at_k": hit_at_k(ranked, relevant, config.k),
                "recall_at_k": recall_at_k(ranked, relevant, config.k),
                "reciprocal_rank": reciprocal_rank(ranked, relevant, 10),
                "ndcg_at_10": ndcg_at_k(ranked, relevant, 10)}
    started = time.perf_counter()
    if config.retrieval_only:
        prepared = answers.prepare(q.question, collections, allowed=allowed, asker=evaluator,
                                   prompt=config.prompt, zones=ANY_ZONE, k=config.k)
        row |= {"refused": prepared.refused,
                "refusal": refusal_outcome(prepared.refused, q.must_refuse),
                "latency_ms": round((time.perf_counter() - started) * 1000, 1)}
        row["failed_checks"] = [c for c in ("missed_refusal", "false_refusal")
                                if row["refusal"] == c] + (
            ["retrieval_miss"] if row.get("hit_at_k") == 0.0 else [])
        return row
    answer = answers.answer(q.question, collections, allowed=allowed, asker=evaluator,
                            prompt=config.prompt, channel="eval", zones=ANY_ZONE, k=config.k)
    row |= {"answer_id": answer.answer_id, "answer": answer.answer,
            "refused": answer.refused, "prompt": answer.prompt, "model": answer.model,
            "citations": [c.model_dump(include=CITATION_FIELDS) for c in answer.citations],
            "sentences": [s.model_dump() for s in answer.sentences],
            "latency_ms": answer.latency_ms.get("total"),
            "first_token_ms": answer.latency_ms.get("first_token")}
    row |= score_answer(answer.model_dump(), key_facts=q.key_facts,
                        expected_documents=q.expected_documents, must_refuse=q.must_refuse,
                        reference_answer=q.reference_answer)
    if row.get("hit_at_k") == 0.0:
        row["failed_checks"].append("retrieval_miss")
    return row


def run_set(questions: Sequence[EvalQuestion], config: RunConfig, *, search: SearchService,
            answers: AnswerService, evaluator: Principal, allowed: Names[str],
            progress: Callable[[int], None] | None = None) -> list[dict[str, Any]]:
    rows = []
    for i, q in enumerate(questions, start=1):
        rows.append(run_question(q, config, search=search, answers=answers,
                                 evaluator=evaluator, allowed=allowed))
        if progress is not None:
            progress(i)
    return rows
