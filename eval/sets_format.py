"""The project's question-set format: one JSON object a line (see ``eval/sets/demo.jsonl``).

Each line holds ``id``, ``question``, ``collections``, ``expected_documents`` (paths relative to
the collection folder), ``key_facts``, ``must_refuse`` and ``tags``; optionally
``expected_pages``, ``reference_answer`` (an approved reply, from the review queue) and
``must_not`` (what a reviewer rejected an answer for). ``load_set`` validates every line and
raises ``SetFormatError`` naming the first bad line, so a typo in a hand-written set fails
loudly instead of silently scoring zero.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REQUIRED = ("id", "question", "collections", "expected_documents", "key_facts", "must_refuse",
            "tags")
OPTIONAL = ("expected_pages", "reference_answer", "must_not")


class SetFormatError(ValueError):
    """A question set line is malformed; the message names the file line."""


@dataclass(frozen=True)
class EvalQuestion:
    """One question of a set. ``answerable`` questions are scored on retrieval."""

    id: str
    question: str
    collections: tuple[str, ...]
    expected_documents: tuple[str, ...]
    key_facts: tuple[str, ...] = ()
    must_refuse: bool = False
    tags: tuple[str, ...] = ()
    expected_pages: tuple[int, ...] | None = field(default=None)
    reference_answer: str | None = None
    must_not: tuple[str, ...] = ()

    @property
    def answerable(self) -> bool:
        return not self.must_refuse

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "question": self.question,
            "collections": list(self.collections),
            "expected_documents": list(self.expected_documents),
        }
        if self.expected_pages is not None:
            data["expected_pages"] = list(self.expected_pages)
        data |= {"key_facts": list(self.key_facts), "must_refuse": self.must_refuse,
                 "tags": list(self.tags)}
        if self.reference_answer is not None:
            data["reference_answer"] = self.reference_answer
        if self.must_not:
            data["must_not"] = list(self.must_not)
        return data


def _strings(data: dict[str, Any], key: str, *, nonempty: bool = False) -> tuple[str, ...]:
    value = data[key]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise SetFormatError(f"'{key}' must be a list of non-empty strings")
    if nonempty and not value:
        raise SetFormatError(f"'{key}' must not be empty")
    return tuple(value)


def parse_question(data: object) -> EvalQuestion:
    """Validate one decoded line; ``SetFormatError`` (without line number) if it is wrong."""
    if not isinstance(data, dict):
        raise SetFormatError("a line must be a JSON object")
    missing = [k for k in REQUIRED if k not in data]
    if missing:
        raise SetFormatError(f"missing field(s): {', '.join(missing)}")
    unknown = sorted(set(data) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        raise SetFormatError(f"unknown field(s): {', '.join(unknown)}")
    for key in ("id", "question"):
        if not isinstance(data[key], str) or not data[key].strip():
            raise SetFormatError(f"'{key}' must be a non-empty string")
    if not isinstance(data["must_refuse"], bool):
        raise SetFormatError("'must_refuse' must be true or false")
    expected = _strings(data, "expected_documents")
    if not data["must_refuse"] and not expected:
        raise SetFormatError("an answerable question needs at least one expected document")
    if data["must_refuse"] and expected:
        raise SetFormatError("a question that must be refused cannot expect documents")
    pages: tuple[int, ...] | None = None
    if "expected_pages" in data:
        raw = data["expected_pages"]
        if not isinstance(raw, list) or not all(
            isinstance(p, int) and not isinstance(p, bool) and p >= 1 for p in raw
        ):
            raise SetFormatError("'expected_pages' must be a list of page numbers (>= 1)")
        pages = tuple(raw)
    reference = data.get("reference_answer")
    if reference is not None and (not isinstance(reference, str) or not reference.strip()):
        raise SetFormatError("'reference_answer' must be a non-empty string")
    return EvalQuestion(
        id=data["id"],
        question=data["question"],
        collections=_strings(data, "collections", nonempty=True),
        expected_documents=expected,
        key_facts=_strings(data, "key_facts"),
        must_refuse=data["must_refuse"],
        tags=_strings(data, "tags"),
        expected_pages=pages,
        reference_answer=reference,
        must_not=_strings(data, "must_not") if "must_not" in data else (),
    )


def parse_lines(lines: Iterable[str], source: str = "<set>") -> list[EvalQuestion]:
    """Questions from JSONL text; blank lines are skipped, ids must be unique."""
    questions: list[EvalQuestion] = []
    seen: set[str] = set()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            question = parse_question(json.loads(line))
        except json.JSONDecodeError as exc:
            raise SetFormatError(f"{source}:{number}: not valid JSON ({exc.msg})") from None
        except SetFormatError as exc:
            raise SetFormatError(f"{source}:{number}: {exc}") from None
        if question.id in seen:
            raise SetFormatError(f"{source}:{number}: duplicate id '{question.id}'")
        seen.add(question.id)
        questions.append(question)
    return questions


def load_set(path: Path) -> list[EvalQuestion]:
    """Load and validate a JSONL question set."""
    with path.open(encoding="utf-8") as fh:
        return parse_lines(fh, source=path.name)


def dump_set(questions: Iterable[EvalQuestion], path: Path) -> None:
    """Write questions in the project's format (one JSON object a line)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for q in questions:
            fh.write(json.dumps(q.to_json(), ensure_ascii=False) + "\n")
