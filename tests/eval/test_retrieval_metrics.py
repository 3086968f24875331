"""Retrieval metrics on hand-made rankings, the question-set validator and the importer."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from eval.public_sets import PublicSetError, document_path, import_public_set, published_baselines
from eval.retrieval import (
    RetrievalMetrics,
    hit_at_k,
    ndcg_at_k,
    recall_at_k,
    reciprocal_rank,
    unique_documents,
)
from eval.sets_format import SetFormatError, load_set, parse_lines

DEMO_SETS = Path(__file__).resolve().parents[2] / "eval" / "sets"


def test_unique_documents_keeps_first_rank() -> None:
    assert unique_documents(["a", "b", "a", "c", "b"]) == ["a", "b", "c"]


def test_hit_at_k() -> None:
    ranked = ["x", "y", "a"]
    assert hit_at_k(ranked, {"a"}, 3) == 1.0
    assert hit_at_k(ranked, {"a"}, 2) == 0.0
    assert hit_at_k([], {"a"}, 5) == 0.0


def test_recall_at_k_counts_each_relevant_document_once() -> None:
    ranked = ["a", "x", "b", "y"]
    assert recall_at_k(ranked, {"a", "b", "c", "d"}, 3) == 0.5
    assert recall_at_k(ranked, {"a", "b"}, 1) == 0.5
    assert recall_at_k(ranked, set(), 5) == 0.0


def test_reciprocal_rank_is_cut_at_k() -> None:
    assert reciprocal_rank(["a", "b"], {"a"}) == 1.0
    assert reciprocal_rank(["x", "y", "b"], {"b", "c"}) == pytest.approx(1 / 3)
    assert reciprocal_rank(["x"] * 10 + ["a"], {"a"}, k=10) == 0.0


def test_ndcg_binary_relevance() -> None:
    assert ndcg_at_k(["a", "b"], {"a", "b"}) == pytest.approx(1.0)
    # one relevant document at rank 2: (1/log2 3) / (1/log2 2)
    assert ndcg_at_k(["x", "a"], {"a"}) == pytest.approx(1 / math.log2(3))
    # two relevant, found at ranks 1 and 3
    expected = (1 + 1 / math.log2(4)) / (1 + 1 / math.log2(3))
    assert ndcg_at_k(["a", "x", "b"], {"a", "b"}) == pytest.approx(expected)
    # nothing inside the cut
    assert ndcg_at_k(["x"] * 10 + ["a"], {"a"}, k=10) == 0.0
    # more relevant documents than k: the ideal ranking is capped at k
    assert ndcg_at_k(["a", "b"], {"a", "b", "c"}, k=2) == pytest.approx(1.0)


def test_metrics_aggregate_over_questions() -> None:
    metrics = RetrievalMetrics.from_rankings([(["a"], {"a"}), (["x", "b"], {"b"})], 30.0)
    assert metrics.questions == 2
    assert metrics.hit_at_1 == 0.5
    assert metrics.hit_at_5 == 1.0
    assert metrics.mrr_at_10 == pytest.approx(0.75)
    assert metrics.mean_search_ms == 15.0
    assert RetrievalMetrics.from_rankings([]).hit_at_5 == 0.0


def test_demo_sets_are_valid() -> None:
    questions = load_set(DEMO_SETS / "demo.jsonl")
    assert any(q.must_refuse for q in questions)
    assert all(q.expected_documents for q in questions if q.answerable)


GOOD = {"id": "q1", "question": "Why?", "collections": ["kb"], "expected_documents": ["a.md"],
        "key_facts": [], "must_refuse": False, "tags": []}


@pytest.mark.parametrize(("change", "message"), [
    ({"question": ""}, "'question'"),
    ({"must_refuse": "no"}, "must_refuse"),
    ({"expected_documents": []}, "expected document"),
    ({"expected_pages": [0]}, "expected_pages"),
    ({"colections": ["kb"]}, "unknown field"),
])
def test_malformed_line_is_refused_with_its_line_number(change: dict[str, object],
                                                        message: str) -> None:
    lines = [json.dumps(GOOD), "", json.dumps(GOOD | {"id": "q2"} | change)]
    with pytest.raises(SetFormatError, match=rf"set:3: .*{message}"):
        parse_lines(lines, source="set")


def test_missing_field_bad_json_and_duplicate_ids() -> None:
    with pytest.raises(SetFormatError, match="set:1: missing field"):
        parse_lines([json.dumps({"id": "q"})], source="set")
    with pytest.raises(SetFormatError, match="set:2: not valid JSON"):
        parse_lines([json.dumps(GOOD), "{"], source="set")
    with pytest.raises(SetFormatError, match="set:2: duplicate id"):
        parse_lines([json.dumps(GOOD), json.dumps(GOOD)], source="set")


def test_importer_writes_documents_and_maps_relevant_ids(tmp_path: Path) -> None:
    src = tmp_path / "myset"
    src.mkdir()
    (src / "corpus.jsonl").write_text(
        json.dumps({"id": "S08/a1", "title": "Lincoln", "text": "He was president."}) + "\n"
        + json.dumps({"id": "7", "title": "", "text": "Other."}) + "\n")
    (src / "questions.jsonl").write_text(
        json.dumps({"id": "q1", "question": "Was he president?", "answers": ["yes"],
                    "relevant_doc_ids": ["S08/a1", "missing"]}) + "\n")
    (src / "SOURCE.md").write_text("| system | nDCG@10 |\n|---|---|\n| BM25 | 0.5 |\n")
    imported = import_public_set(src, tmp_path / "work", collection="myset")
    assert imported.documents == 2
    assert (imported.corpus_dir / "S08/a1.txt").read_text() == "Lincoln\n\nHe was president.\n"
    [q] = imported.questions
    assert q.expected_documents == ("S08/a1.txt",) and q.key_facts == ("yes",)
    assert q.collections == ("myset",)
    assert load_set(tmp_path / "work" / "questions.jsonl") == imported.questions
    assert published_baselines(src)[0].value == 0.5
    with pytest.raises(PublicSetError):
        document_path("../etc/passwd")
