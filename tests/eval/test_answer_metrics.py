"""Answer metrics on hand-made answers, with the exact numbers the module docstring promises."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from eval.answer_metrics import (
    aggregate,
    answer_overlap,
    citation_precision,
    groundedness,
    key_fact_coverage,
    normalise,
    percentile,
    refusal_outcome,
    score_answer,
)

QUOTE = ("VPN error NWL-VPN-809 means the device certificate expired. Call the service desk on "
         "extension 4410.")


# -- normalise / key facts ----------------------------------------------------------------
@pytest.mark.parametrize(("text", "expected"), [
    ("  Hello\t\n  World  ", "hello world"),
    ("NWL\u2013VPN\u2014809", "nwl-vpn-809"),  # en dash, em dash
    ("a\u2010b\u2011c\u2012d\u2212e", "a-b-c-d-e"),  # hyphen, non-breaking hyphen, minus
    ("50\u00a0GB", "50 gb"),  # a no-break space is whitespace too
])
def test_normalise_lowercases_and_collapses_whitespace_and_dashes(text: str,
                                                                  expected: str) -> None:
    assert normalise(text) == expected


def test_normalise_leaves_other_punctuation_alone() -> None:
    assert normalise("a_b.c/d") == "a_b.c/d"
    assert normalise("a - b") == "a - b"  # spaces around a dash are not removed


def test_key_fact_coverage_ignores_case_whitespace_and_dash_style() -> None:
    text = "The Certificate\n  EXPIRED: see NWL\u2013VPN\u2013809."
    facts = ["certificate expired", "NWL-VPN-809", "extension 4410"]
    assert key_fact_coverage(text, facts) == 2 / 3
    assert key_fact_coverage(text, facts[:2]) == 1.0


def test_key_fact_coverage_needs_the_words_in_order_and_nothing_is_none() -> None:
    assert key_fact_coverage("certificateexpired", ["certificate expired"]) == 0.0
    assert key_fact_coverage("expired certificate", ["certificate expired"]) == 0.0
    assert key_fact_coverage("", ["certificate expired"]) == 0.0
    assert key_fact_coverage("anything", []) is None
    assert key_fact_coverage("anything", ()) is None


def test_key_fact_coverage_matches_whole_words_only() -> None:
    assert key_fact_coverage("The limit is 150 GB.", ["50 GB"]) == 0.0
    assert key_fact_coverage("The limit is 50 GB.", ["50 GB"]) == 1.0
    assert key_fact_coverage("Use adm-prefixed accounts (adm-).", ["adm-"]) == 1.0


# -- citations, grounding, refusals ---------------------------------------------------------
CITATIONS = [{"n": 1, "document": "vpn.md"}, {"n": 2, "document": "mail.txt"},
             {"n": 3, "document": "printers.md"}]


def test_citation_precision_counts_expected_documents_or_supported_backing() -> None:
    sentences = [{"supported": True, "citations": [2]},  # 2 is right: it backs this
                 {"supported": False, "citations": [3]}]  # 3 is neither expected nor backing
    assert citation_precision(CITATIONS, sentences, ["vpn.md"]) == 2 / 3
    assert citation_precision(CITATIONS, sentences, iter(["vpn.md", "printers.md"])) == 1.0


def test_citation_precision_without_expectations_or_support_is_zero() -> None:
    unsupported = [{"supported": False, "citations": [1, 2, 3]}]
    assert citation_precision(CITATIONS, unsupported, []) == 0.0
    assert citation_precision(CITATIONS, [], ["elsewhere.md"]) == 0.0


def test_citation_counted_once_when_expected_and_backing() -> None:
    cited = [{"n": 1, "document": "vpn.md"}]
    sentences = [{"supported": True, "citations": [1]}]
    assert citation_precision(cited, sentences, ["vpn.md"]) == 1.0


def test_citation_precision_is_none_without_citations() -> None:
    assert citation_precision([], [{"supported": True, "citations": [1]}], ["vpn.md"]) is None


def test_groundedness_is_the_share_of_supported_sentences() -> None:
    sentences: list[dict[str, Any]] = [{"supported": True}, {"supported": False},
                                       {"supported": True}, {}]
    assert groundedness(sentences) == 0.5
    assert groundedness([{"supported": False}]) == 0.0
    assert groundedness([]) is None


@pytest.mark.parametrize(("refused", "must_refuse", "outcome"), [
    (True, True, "correct_refusal"),
    (False, True, "missed_refusal"),
    (True, False, "false_refusal"),
    (False, False, "answered"),
])
def test_refusal_outcome(refused: bool, must_refuse: bool, outcome: str) -> None:
    assert refusal_outcome(refused, must_refuse) == outcome


# -- score_answer ---------------------------------------------------------------------------
def test_score_answer_of_a_good_answer_missing_one_fact() -> None:
    answer = {"refused": False,
              "answer": "VPN error NWL-VPN-809 means the certificate expired [1].",
              "citations": [{"n": 1, "document": "vpn.md", "quote": QUOTE}],
              "sentences": [{"text": "VPN error NWL-VPN-809 means the certificate expired.",
                             "supported": True, "citations": [1]}]}
    scores = score_answer(answer, key_facts=["certificate expired", "extension 4410"],
                          expected_documents=["vpn.md"], must_refuse=False)
    assert scores == {"key_fact_coverage": 0.5,
                      "evidence_coverage": 1.0,  # the quote carries the missing fact
                      "citation_precision": 1.0, "groundedness": 1.0, "refusal": "answered",
                      "answer_f1": None, "answer_recall": None,  # no reference answer
                      "failed_checks": ["key_fact_coverage"]}


def test_score_answer_refused_answer_covers_nothing_even_if_its_text_names_the_fact() -> None:
    answer = {"refused": True,
              "answer": "I don't know: the documents in kb don't mention NWL-VPN-809.",
              "citations": [], "sentences": []}
    scores = score_answer(answer, key_facts=["NWL-VPN-809"], expected_documents=["vpn.md"],
                          must_refuse=False)
    assert scores == {"key_fact_coverage": 0.0, "evidence_coverage": 0.0,
                      "citation_precision": None, "groundedness": None,
                      "refusal": "false_refusal",
                      "answer_f1": None, "answer_recall": None,
                      "failed_checks": ["key_fact_coverage", "false_refusal"]}


def test_score_answer_correct_refusal_fails_nothing() -> None:
    answer = {"refused": True, "answer": "I don't know.", "citations": [], "sentences": []}
    scores = score_answer(answer, key_facts=[], expected_documents=[], must_refuse=True)
    assert scores["refusal"] == "correct_refusal"
    assert scores["key_fact_coverage"] is None and scores["evidence_coverage"] is None
    assert scores["failed_checks"] == []


def test_score_answer_missed_refusal_with_unsupported_claims() -> None:
    answer = {"refused": False, "answer": "The vault code is 1234 [1].",
              "citations": [{"n": 1, "document": "vpn.md", "quote": "VPN guide"}],
              "sentences": [{"text": "The vault code is 1234.", "supported": False,
                             "citations": [1]}]}
    scores = score_answer(answer, key_facts=[], expected_documents=[], must_refuse=True)
    assert scores["citation_precision"] == 0.0 and scores["groundedness"] == 0.0
    assert scores["refusal"] == "missed_refusal"
    assert scores["failed_checks"] == ["citation_precision", "groundedness", "missed_refusal"]


# -- aggregate ------------------------------------------------------------------------------
def row(*, must_refuse: bool = False, refusal: str = "answered", latency: float | None = None,
        **metrics: float | None) -> dict[str, Any]:
    return {"must_refuse": must_refuse, "refusal": refusal, "latency_ms": latency} | metrics


def test_aggregate_means_ignore_missing_values() -> None:
    rows = [
        row(key_fact_coverage=1.0, evidence_coverage=1.0, citation_precision=1.0,
            groundedness=1.0, latency=10.0),
        row(key_fact_coverage=0.5, evidence_coverage=None, citation_precision=None,
            groundedness=0.5, latency=20.0),
        row(refusal="false_refusal", key_fact_coverage=0.0, evidence_coverage=0.0,
            citation_precision=None, groundedness=None, latency=30.0),
        row(must_refuse=True, refusal="correct_refusal", latency=40.0),
        row(must_refuse=True, refusal="missed_refusal"),  # no latency: not in percentiles
    ]
    assert aggregate(rows) == {
        "key_fact_coverage": 0.5, "evidence_coverage": 0.5, "citation_precision": 1.0,
        "groundedness": 0.75, "answer_f1": None, "answer_recall": None,
        "answer_words_p50": None, "refusal_accuracy": 0.5, "false_refusal_rate": 0.3333,
        "latency_p50_ms": 25.0, "latency_p95_ms": 38.5, "first_token_p50_ms": None,
    }


def test_aggregate_quality_means_are_over_answerable_questions_only() -> None:
    # a must-refuse question that was answered anyway has a groundedness, but the run's
    # groundedness is the answerable questions' (see the report: docstring vs code)
    rows = [row(groundedness=1.0),
            row(must_refuse=True, refusal="missed_refusal", groundedness=0.0)]
    result = aggregate(rows)
    assert result["groundedness"] == 1.0
    assert result["refusal_accuracy"] == 0.0 and result["false_refusal_rate"] == 0.0


def test_aggregate_rates_are_none_without_their_questions() -> None:
    only_answerable = aggregate([row(refusal="answered")])
    assert only_answerable["refusal_accuracy"] is None
    assert only_answerable["false_refusal_rate"] == 0.0
    only_refusals = aggregate([row(must_refuse=True, refusal="correct_refusal")])
    assert only_refusals["false_refusal_rate"] is None
    assert only_refusals["refusal_accuracy"] == 1.0
    assert only_refusals["key_fact_coverage"] is None
    assert all(v is None for v in aggregate([]).values())


def test_latency_percentiles_interpolate_linearly_like_numpy() -> None:
    values = [100.0, 1.0, 8.0, 2.0, 4.0]
    assert percentile(values, 50) == 4.0
    assert percentile(values, 95) == 81.6  # 8 + 0.8 * (100 - 8)
    assert percentile(values, 95) == round(float(np.percentile(values, 95)), 1)
    assert percentile([7.26], 95) == 7.3  # one value: itself, rounded to 0.1 ms
    assert percentile([], 50) is None


def test_a_model_that_says_it_does_not_know_has_refused() -> None:
    """Only the retrieval gate sets ``refused``; the model's own "I don't know" counts too."""
    answer = {"refused": False, "answer": "I don't know.", "citations": [], "sentences": []}
    assert score_answer(answer, key_facts=[], expected_documents=[],
                        must_refuse=True)["refusal"] == "correct_refusal"
    assert score_answer(answer, key_facts=["50 GB"], expected_documents=["a.md"],
                        must_refuse=False)["refusal"] == "false_refusal"


def test_answer_overlap_rewards_the_reference_words_and_punishes_padding() -> None:
    reference = "Renew the device certificate in the self-service portal."
    exact, _ = answer_overlap("Renew the device certificate in the self-service portal.",
                              reference)
    padded, padded_recall = answer_overlap(
        "Renew the device certificate in the self-service portal. " + "Also note that "
        "tunnels, gateways, routers, printers and mailboxes exist everywhere.", reference)
    assert exact == 1.0 and padded_recall == 1.0 and padded is not None and padded < 0.7
    assert answer_overlap("Reboot the laptop.", reference) == (0.0, 0.0)
    assert answer_overlap("anything", None) == (None, None)


def test_groundedness_counts_only_what_was_shown() -> None:
    sentences = [{"text": "Quoted.", "supported": True, "source": "quoted", "shown": True},
                 {"text": "Invented.", "supported": False, "shown": False}]
    assert groundedness(sentences) == 1.0
    assert groundedness([{"text": "Old record.", "supported": False}]) == 0.0  # shown: default
