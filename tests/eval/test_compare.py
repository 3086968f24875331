"""Comparing two runs: the paired bootstrap, per-question wins and losses, the same-set flag."""

from __future__ import annotations

from typing import Any

import pytest

from eval.compare import compare, metric, paired_bootstrap, question_score


# -- paired_bootstrap -----------------------------------------------------------------------
def test_identical_runs_differ_by_nothing() -> None:
    scores = [0.0, 0.5, 1.0] * 10
    assert paired_bootstrap(scores, list(scores)) == (0.0, 0.0, 0.0)


def test_consistent_improvement_is_significant() -> None:
    a = [i / 60 for i in range(30)]
    b = [x + (0.1, 0.15, 0.2)[i % 3] for i, x in enumerate(a)]
    diff, low, high = paired_bootstrap(a, b)
    assert diff == pytest.approx(0.15)
    assert 0.1 <= low < diff < high <= 0.2  # the interval excludes 0


def test_pairing_removes_the_spread_between_questions() -> None:
    # unpaired, scores from 0 to 29 would drown a +1; paired, every difference is exactly 1
    a = [float(i) for i in range(30)]
    assert paired_bootstrap(a, [x + 1 for x in a]) == pytest.approx((1.0, 1.0, 1.0))


def test_noisy_difference_is_not_significant() -> None:
    a = [0.5] * 30
    b = [0.5 + (1 if i % 2 else -1) for i in range(30)]  # +1 / -1 alternately
    diff, low, high = paired_bootstrap(a, b)
    assert diff == 0.0
    assert low < 0 < high


def test_bootstrap_is_deterministic_for_a_seed() -> None:
    a = [0.0] * 30
    b = [float(i % 3 == 0) - float(i % 5 == 0) for i in range(30)]
    assert paired_bootstrap(a, b, seed=7) == paired_bootstrap(a, b, seed=7)
    assert paired_bootstrap(a, b, seed=7)[1:] != paired_bootstrap(a, b, seed=8)[1:]


def test_bootstrap_of_nothing() -> None:
    assert paired_bootstrap([], []) == (0.0, 0.0, 0.0)


# -- question_score / metric ----------------------------------------------------------------
@pytest.mark.parametrize(("outcome", "value"), [
    ("correct_refusal", 1.0), ("answered", 1.0), ("missed_refusal", 0.0),
    ("false_refusal", 0.0), (None, None)])
def test_refusal_correct_metric(outcome: str | None, value: float | None) -> None:
    assert metric({"refusal": outcome}, "refusal_correct") == value


def test_question_score_is_the_mean_of_the_defined_headline_metrics() -> None:
    assert question_score({"hit_at_k": 1.0, "key_fact_coverage": 0.5, "groundedness": None,
                           "refusal": "answered", "citation_precision": 0.0}) == 2.5 / 3
    assert question_score({"refusal": "false_refusal"}) == 0.0
    assert question_score({"citation_precision": 1.0}) is None  # not a headline metric


# -- compare --------------------------------------------------------------------------------
def q(qid: str, *, refusal: str = "answered", **metrics: float | None) -> dict[str, Any]:
    return {"id": qid, "question": f"question {qid}?", "refusal": refusal} | metrics


def run(run_id: str, rows: list[dict[str, Any]], set_hash: str = "h1") -> dict[str, Any]:
    return {"id": run_id, "prompt": "answer@1", "model_id": "fake-llm", "set_name": "tiny",
            "set_hash": set_hash, "results": rows}


RUN_A = run("a", [
    q("q1", hit_at_k=1.0, key_fact_coverage=1.0, groundedness=1.0),  # 1.0
    q("q2", refusal="false_refusal", hit_at_k=0.0, key_fact_coverage=0.0),  # 0.0
    q("q3", refusal="missed_refusal", groundedness=0.5),  # 0.25
    q("q4", hit_at_k=1.0, key_fact_coverage=1.0),  # 1.0
    q("only-a", hit_at_k=0.0),
])
RUN_B = run("b", [
    q("q1", hit_at_k=1.0, key_fact_coverage=0.5, groundedness=1.0),  # 0.875: a loss
    q("q2", hit_at_k=1.0, key_fact_coverage=1.0, groundedness=1.0),  # 1.0: a win by 1
    q("q3", refusal="correct_refusal"),  # 1.0: a win by 0.75
    q("q4", hit_at_k=1.0, key_fact_coverage=1.0),  # the same: neither
    q("only-b", hit_at_k=1.0),
])


def test_wins_and_losses_per_question_biggest_first() -> None:
    result = compare(RUN_A, RUN_B, resamples=200)
    assert result["questions_compared"] == 4  # only-a and only-b are ignored
    assert result["wins"] == [
        {"id": "q2", "question": "question q2?", "a": 0.0, "b": 1.0},
        {"id": "q3", "question": "question q3?", "a": 0.25, "b": 1.0},
    ]
    assert result["losses"] == [{"id": "q1", "question": "question q1?", "a": 1.0, "b": 0.875}]


def test_compare_metrics_over_the_questions_defined_in_both() -> None:
    metrics = compare(RUN_A, RUN_B, resamples=200)["metrics"]
    refusal = metrics["refusal_correct"]
    assert (refusal["questions"], refusal["a"], refusal["b"], refusal["diff"]) == (4, 0.5, 1.0,
                                                                                   0.5)
    hit = metrics["hit_at_k"]  # q1, q2, q4; q3 has no retrieval metrics
    assert (hit["questions"], hit["a"], hit["b"], hit["diff"]) == (3, 0.6667, 1.0, 0.3333)
    assert hit["ci95"][0] <= hit["diff"] <= hit["ci95"][1]
    assert metrics["key_fact_coverage"]["questions"] == 3
    assert metrics["groundedness"]["questions"] == 1  # only q1 has it in both
    assert "latency_ms" not in metrics and "recall_at_k" not in metrics


def test_compare_names_the_runs_and_flags_another_set() -> None:
    same = compare(RUN_A, RUN_B, resamples=50)
    assert same["same_set"] is True
    assert same["a"] == {"id": "a", "prompt": "answer@1", "model_id": "fake-llm",
                         "set_name": "tiny", "set_hash": "h1"}
    assert same["resamples"] == 50
    other = compare(RUN_A, run("c", RUN_B["results"], set_hash="h2"), resamples=50)
    assert other["same_set"] is False


def test_identical_runs_have_no_wins_losses_or_significant_differences() -> None:
    result = compare(RUN_A, run("a2", RUN_A["results"]), resamples=200)
    assert result["wins"] == [] and result["losses"] == []
    for m in result["metrics"].values():
        assert m["diff"] == 0.0 and m["ci95"] == [0.0, 0.0] and not m["significant"]


def test_a_consistent_improvement_over_30_questions_is_significant() -> None:
    base = [q(f"q{i}", hit_at_k=1.0, key_fact_coverage=0.5) for i in range(30)]
    better = [q(f"q{i}", hit_at_k=1.0, key_fact_coverage=1.0 if i % 3 else 0.75)
              for i in range(30)]
    result = compare(run("a", base), run("b", better))
    kfc = result["metrics"]["key_fact_coverage"]
    assert kfc["significant"] and kfc["ci95"][0] > 0
    assert not result["metrics"]["hit_at_k"]["significant"]  # unchanged: noise at most
    assert len(result["wins"]) == 30 and result["losses"] == []
