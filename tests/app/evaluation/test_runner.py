"""The runner over the small KB with fake models: exact retrieval metrics, refusal outcomes, and
a retrieval-only run that never reaches the LLM."""

from __future__ import annotations

from typing import Any

import pytest

from app.core.principal import Principal
from app.evaluation.runner import run_question, run_set
from app.wiring import Services
from eval.runner import RunConfig, summarise
from eval.sets_format import EvalQuestion
from models.fakes import FakeLLM

OPERATOR = Principal.operator()
VPN = EvalQuestion(id="vpn", question="What does VPN error NWL-VPN-809 mean?",
                   collections=("kb",), expected_documents=("vpn.md",),
                   key_facts=("certificate expired", "extension 4410"), tags=("vpn",))
PERU = EvalQuestion(id="peru", question="capital of Peru?", collections=("kb",),
                    expected_documents=(), must_refuse=True)
# answerable, but too far from every chunk for the fake embedder: refused by the gate
MAILBOX = EvalQuestion(id="mailbox", question="How big can the mailbox be?",
                       collections=("kb",), expected_documents=("mail.txt",),
                       key_facts=("50 GB",))
# must be refused, but the documents do cover it
VPN_MUST_REFUSE = EvalQuestion(id="vpn-refuse", question=VPN.question, collections=("kb",),
                               expected_documents=(), must_refuse=True)
QUESTIONS = (VPN, PERU, MAILBOX, VPN_MUST_REFUSE)
RETRIEVAL_KEYS = {"questions", "answerable", "must_refuse", "k", "hit_at_k", "recall_at_k",
                  "mrr_at_10", "ndcg_at_10", "refusal_accuracy", "false_refusal_rate",
                  "latency_p50_ms", "latency_p95_ms"}
ANSWER_KEYS = {"key_fact_coverage", "evidence_coverage", "citation_precision", "groundedness",
               "answer_f1", "answer_recall", "answer_words_p50", "first_token_p50_ms"}


def ask(services: Services, q: EvalQuestion, config: RunConfig) -> dict[str, Any]:
    return run_question(q, config, search=services.search, answers=services.answers,
                        evaluator=OPERATOR, allowed={"kb"})


def test_answerable_question_full_run(indexed: Services, fake_llm: FakeLLM) -> None:
    row = ask(indexed, VPN, RunConfig())
    assert row["ranked"] == ["vpn.md", "printing/printers.md", "mail.txt"]
    assert (row["hit_at_k"], row["recall_at_k"], row["reciprocal_rank"],
            row["ndcg_at_10"]) == (1.0, 1.0, 1.0, 1.0)
    assert row["refused"] is False and row["refusal"] == "answered"
    assert row["prompt"] == "answer@2" and row["model"] == "fake-llm"
    assert row["citations"][0]["document"] == "vpn.md"
    assert set(row["citations"][0]) == {"n", "document", "page", "quote", "inferred"}
    assert row["key_fact_coverage"] == 0.5  # the reply doesn't give the extension
    assert row["evidence_coverage"] == 0.5  # nor does the quoted sentence
    assert (row["citation_precision"], row["groundedness"]) == (1.0, 1.0)
    assert row["failed_checks"] == ["key_fact_coverage"]
    assert row["latency_ms"] > 0
    assert len(fake_llm.prompts) == 1
    stored = indexed.answers.get(row["answer_id"], readable={"kb"}, viewer=OPERATOR,
                                 audit=False)
    assert stored.channel == "eval" and stored.question == VPN.question


def test_a_miss_scores_the_rank_of_the_expected_document(indexed: Services) -> None:
    mail = EvalQuestion(id="m", question=VPN.question, collections=("kb",),
                        expected_documents=("mail.txt",))  # ranked third
    row = ask(indexed, mail, RunConfig(k=1, retrieval_only=True))
    assert (row["hit_at_k"], row["recall_at_k"]) == (0.0, 0.0)
    assert row["reciprocal_rank"] == pytest.approx(1 / 3)
    assert row["ndcg_at_10"] == pytest.approx(0.5)  # 1 / log2(3 + 1)
    assert row["failed_checks"] == ["retrieval_miss"]
    assert ask(indexed, mail, RunConfig(k=3, retrieval_only=True))["hit_at_k"] == 1.0


def test_must_refuse_question_is_refused_without_the_llm(indexed: Services,
                                                         fake_llm: FakeLLM) -> None:
    row = ask(indexed, PERU, RunConfig())
    assert row["refused"] is True and row["refusal"] == "correct_refusal"
    assert row["failed_checks"] == []
    assert "hit_at_k" not in row and "ranked" not in row  # no retrieval metrics to score
    assert fake_llm.prompts == []


def test_missed_and_false_refusals_fail_their_checks(indexed: Services) -> None:
    missed = ask(indexed, VPN_MUST_REFUSE, RunConfig())
    assert missed["refusal"] == "missed_refusal" and "missed_refusal" in missed["failed_checks"]
    false = ask(indexed, MAILBOX, RunConfig())
    assert false["refusal"] == "false_refusal"
    assert false["hit_at_k"] == 1.0  # retrieval found it; the gate refused anyway
    assert false["key_fact_coverage"] == 0.0
    assert false["failed_checks"] == ["key_fact_coverage", "false_refusal"]


def test_retrieval_only_never_calls_the_llm_but_reports_refusals(indexed: Services,
                                                                 fake_llm: FakeLLM) -> None:
    config = RunConfig(retrieval_only=True)
    rows = {r["id"]: r for r in run_set(QUESTIONS, config, search=indexed.search,
                                        answers=indexed.answers, evaluator=OPERATOR,
                                        allowed={"kb"})}
    assert fake_llm.prompts == []
    assert {i: r["refusal"] for i, r in rows.items()} == {
        "vpn": "answered", "peru": "correct_refusal", "mailbox": "false_refusal",
        "vpn-refuse": "missed_refusal"}
    assert rows["mailbox"]["failed_checks"] == ["false_refusal"]
    assert rows["vpn-refuse"]["failed_checks"] == ["missed_refusal"]
    assert not any("answer" in r or "key_fact_coverage" in r for r in rows.values())


def test_full_run_asks_the_llm_only_for_what_is_not_refused(indexed: Services,
                                                            fake_llm: FakeLLM) -> None:
    rows = run_set(QUESTIONS, RunConfig(), search=indexed.search, answers=indexed.answers,
                   evaluator=OPERATOR, allowed={"kb"})
    assert [r["refused"] for r in rows] == [False, True, True, False]
    assert len(fake_llm.prompts) == 2


def test_summarise_retrieval_only_vs_full(indexed: Services) -> None:
    for config, keys in ((RunConfig(retrieval_only=True), RETRIEVAL_KEYS),
                         (RunConfig(), RETRIEVAL_KEYS | ANSWER_KEYS)):
        rows = run_set(QUESTIONS, config, search=indexed.search, answers=indexed.answers,
                       evaluator=OPERATOR, allowed={"kb"})
        summary = summarise(rows, config)
        assert set(summary) == keys
        assert {k: summary[k] for k in ("questions", "answerable", "must_refuse", "k",
                                         "hit_at_k", "recall_at_k", "mrr_at_10",
                                         "refusal_accuracy", "false_refusal_rate")} == {
            "questions": 4, "answerable": 2, "must_refuse": 2, "k": 5, "hit_at_k": 1.0,
            "recall_at_k": 1.0, "mrr_at_10": 1.0, "refusal_accuracy": 0.5,
            "false_refusal_rate": 0.5}
    assert summary["key_fact_coverage"] == 0.25  # (0.5 + 0.0) / 2
    assert summary["groundedness"] == 1.0  # the refused answer has no sentences


def test_progress_reports_every_question(indexed: Services) -> None:
    seen: list[int] = []
    run_set(QUESTIONS, RunConfig(retrieval_only=True), search=indexed.search,
            answers=indexed.answers, evaluator=OPERATOR, allowed={"kb"}, progress=seen.append)
    assert seen == [1, 2, 3, 4]


def test_a_run_may_use_an_exploration_version_and_k_chunks(indexed: Services,
                                                          fake_llm: FakeLLM) -> None:
    created = indexed.prompts.new_version(OPERATOR, "answer", system="EXPLORATION SYSTEM TEXT",
                                          user="{context}\n\nQ: {question}", change_note="try")
    assert created.zone == "exploration"
    row = ask(indexed, VPN, RunConfig(prompt=created.ref, k=1))
    assert row["prompt"] == created.ref
    system, user = fake_llm.prompts[-1]
    assert system["content"] == "EXPLORATION SYSTEM TEXT"
    assert '<document number="1"' in user["content"]
    assert '<document number="2"' not in user["content"]  # k=1: one chunk in the prompt
