"""Answer-quality metrics, all computed locally from the stored answer (no judge model).

Per question:
- ``key_fact_coverage``: share of the question's key facts found in the answer text as whole
  words ("50 GB" is not found in "150 GB"), compared after lower-casing and collapsing
  whitespace and dashes (None without key facts). A refused answer covers nothing.
- ``evidence_coverage``: the same over the answer text plus its supporting quotes: what the
  agent actually reads (the quotes carry the facts when a small model paraphrases badly).
- ``citation_precision``: share of the answer's citations that are right: the cited document is
  one of the expected documents, or the citation backs a sentence the support check marked
  supported (None without citations).
- ``groundedness``: share of the answer's sentences marked supported by their cited evidence,
  the same check the chat answer shows (None without sentences).
- refusal outcome: ``correct_refusal`` / ``missed_refusal`` for ``must_refuse`` questions,
  ``false_refusal`` / ``answered`` for answerable ones. An answer refuses when the retrieval
  gate refused it, or when the model itself says it doesn't know.

Over a run (``aggregate``): the means of the answer metrics over the answerable questions
where they are defined (a must-refuse question has no facts to cover),
``refusal_accuracy`` = correct refusals / must-refuse questions, ``false_refusal_rate`` =
refused answerable questions / answerable questions, and latency p50/p95 (linear
interpolation).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

_SPACE = re.compile(r"\s+")
_DASH = re.compile(r"[‐‑‒–—−]")


def normalise(text: str) -> str:
    return _SPACE.sub(" ", _DASH.sub("-", text.lower())).strip()


_UNKNOWN = re.compile(r"\b(i do not know|i don'?t know|not (?:in|covered by) the documents)\b")


def says_unknown(text: str) -> bool:
    return bool(_UNKNOWN.search(normalise(text)))


def contains(haystack: str, fact: str) -> bool:
    """``fact`` in ``haystack`` (both normalised), not glued to a letter or digit."""
    needle = normalise(fact)
    return bool(needle) and re.search(
        rf"(?<![0-9a-z]){re.escape(needle)}(?![0-9a-z])", haystack) is not None


def key_fact_coverage(text: str, facts: Sequence[str]) -> float | None:
    if not facts:
        return None
    haystack = normalise(text)
    return sum(contains(haystack, f) for f in facts) / len(facts)


def citation_precision(citations: Sequence[dict[str, Any]], sentences: Sequence[dict[str, Any]],
                       expected_documents: Iterable[str]) -> float | None:
    if not citations:
        return None
    expected = set(expected_documents)
    backing = {n for s in sentences if s.get("supported") for n in s.get("citations", [])}
    right = sum(c["document"] in expected or c["n"] in backing for c in citations)
    return right / len(citations)


def groundedness(sentences: Sequence[dict[str, Any]]) -> float | None:
    if not sentences:
        return None
    return sum(bool(s.get("supported")) for s in sentences) / len(sentences)


def refusal_outcome(refused: bool, must_refuse: bool) -> str:
    if must_refuse:
        return "correct_refusal" if refused else "missed_refusal"
    return "false_refusal" if refused else "answered"


def score_answer(answer: dict[str, Any], *, key_facts: Sequence[str],
                 expected_documents: Sequence[str], must_refuse: bool) -> dict[str, Any]:
    """The answer metrics of one question, and the names of the checks it failed."""
    refused = bool(answer["refused"]) or says_unknown(answer["answer"])
    text = "" if refused else answer["answer"]
    quotes = " ".join(c.get("quote", "") for c in answer.get("citations", []))
    scores: dict[str, Any] = {
        "key_fact_coverage": 0.0 if refused and key_facts else key_fact_coverage(text,
                                                                               key_facts),
        "evidence_coverage": 0.0 if refused and key_facts else key_fact_coverage(
            f"{text} {quotes}", key_facts),
        "citation_precision": citation_precision(answer.get("citations", []),
                                                 answer.get("sentences", []),
                                                 expected_documents),
        "groundedness": groundedness(answer.get("sentences", [])),
        "refusal": refusal_outcome(refused, must_refuse),
    }
    failed = [name for name in ("key_fact_coverage", "citation_precision", "groundedness")
              if scores[name] is not None and scores[name] < 1.0]
    if scores["refusal"] in ("missed_refusal", "false_refusal"):
        failed.append(scores["refusal"])
    scores["failed_checks"] = failed
    return scores


def _mean(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(float(np.mean(present)), 4) if present else None


def percentile(values: Sequence[float], q: float) -> float | None:
    return round(float(np.percentile(np.asarray(values, dtype=float), q)), 1) if values else None


def aggregate(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Run-level answer metrics from per-question rows (see the module docstring)."""
    must = [r for r in rows if r["must_refuse"]]
    answerable = [r for r in rows if not r["must_refuse"]]
    latency = [r["latency_ms"] for r in rows if r.get("latency_ms") is not None]
    return {
        "key_fact_coverage": _mean(r.get("key_fact_coverage") for r in answerable),
        "evidence_coverage": _mean(r.get("evidence_coverage") for r in answerable),
        "citation_precision": _mean(r.get("citation_precision") for r in answerable),
        "groundedness": _mean(r.get("groundedness") for r in answerable),
        "refusal_accuracy": round(sum(r["refusal"] == "correct_refusal" for r in must)
                                  / len(must), 4) if must else None,
        "false_refusal_rate": round(sum(r["refusal"] == "false_refusal" for r in answerable)
                                    / len(answerable), 4) if answerable else None,
        "latency_p50_ms": percentile(latency, 50),
        "latency_p95_ms": percentile(latency, 95),
    }
