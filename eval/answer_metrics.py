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
- ``groundedness``: share of the shown answer's sentences marked supported by their cited
  evidence, the same check the chat answer shows (None without sentences); a quoted sentence
  is supported by definition, a generated one the answer held back is not counted.
- ``answer_f1`` / ``answer_recall``: where the question has a ``reference_answer`` (an
  approved reply), the content words of the shown answer against the reference's: recall is
  the share of the reference's words the answer has, F1 weighs in precision, so padding an
  answer with text lowers it (None without a reference).
- refusal outcome: ``correct_refusal`` / ``missed_refusal`` for ``must_refuse`` questions,
  ``false_refusal`` / ``answered`` for answerable ones. An answer refuses when the retrieval
  gate refused it, or when the model itself says it doesn't know.

Over a run (``aggregate``): the means of the answer metrics over the answerable questions
where they are defined (a must-refuse question has no facts to cover),
``refusal_accuracy`` = correct refusals / must-refuse questions, ``false_refusal_rate`` =
refused answerable questions / answerable questions, and latency p50/p95 (linear
interpolation), the median time to the first token of the answers the model wrote, and
the median length in words of the answers shown.
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


_UNKNOWN = re.compile(r"\b(i do not know|i don'?t know|not (?:in|covered by) the documents"
                      r"|(?:dat )?weet ik (?:het )?niet|ik weet het niet)\b")


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


_CONTENT = re.compile(r"[^\W\d_]{4,}|\d+")


def content_words(text: str) -> set[str]:
    """Words of four or more letters, and numbers, lower-cased; short function words
    ("the", "of", "is", "een", "het") drop out in any language."""
    return set(_CONTENT.findall(normalise(text)))


def answer_overlap(text: str, reference: str | None) -> tuple[float | None, float | None]:
    """(F1, recall) of the content words of ``text`` against ``reference``."""
    if not reference:
        return None, None
    said, wanted = content_words(text), content_words(reference)
    if not wanted:
        return None, None
    common = len(said & wanted)
    recall = common / len(wanted)
    precision = common / len(said) if said else 0.0
    f1 = 2 * precision * recall / (precision + recall) if common else 0.0
    return round(f1, 4), round(recall, 4)


def citation_precision(citations: Sequence[dict[str, Any]], sentences: Sequence[dict[str, Any]],
                       expected_documents: Iterable[str]) -> float | None:
    if not citations:
        return None
    expected = set(expected_documents)
    backing = {n for s in sentences if s.get("supported") for n in s.get("citations", [])}
    right = sum(c["document"] in expected or c["n"] in backing for c in citations)
    return right / len(citations)


def groundedness(sentences: Sequence[dict[str, Any]]) -> float | None:
    """Over the sentences the asker was shown (a generated sentence held back from the shown
    answer is not what anyone read)."""
    shown = [s for s in sentences if s.get("shown", True)]
    if not shown:
        return None
    return sum(bool(s.get("supported")) for s in shown) / len(shown)


def refusal_outcome(refused: bool, must_refuse: bool) -> str:
    if must_refuse:
        return "correct_refusal" if refused else "missed_refusal"
    return "false_refusal" if refused else "answered"


def score_answer(answer: dict[str, Any], *, key_facts: Sequence[str],
                 expected_documents: Sequence[str], must_refuse: bool,
                 reference_answer: str | None = None) -> dict[str, Any]:
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
    scores["answer_f1"], scores["answer_recall"] = answer_overlap(text, reference_answer)
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
        "answer_f1": _mean(r.get("answer_f1") for r in answerable),
        "answer_recall": _mean(r.get("answer_recall") for r in answerable),
        "answer_words_p50": percentile([len(r["answer"].split()) for r in answerable
                                        if r.get("answer") and r.get("refusal") == "answered"],
                                       50),
        "refusal_accuracy": round(sum(r["refusal"] == "correct_refusal" for r in must)
                                  / len(must), 4) if must else None,
        "false_refusal_rate": round(sum(r["refusal"] == "false_refusal" for r in answerable)
                                    / len(answerable), 4) if answerable else None,
        "latency_p50_ms": percentile(latency, 50),
        "latency_p95_ms": percentile(latency, 95),
        "first_token_p50_ms": percentile([r["first_token_ms"] for r in rows
                                          if r.get("first_token_ms") is not None], 50),
    }
