"""A question-set file as the listings see it: its summary, and the collections its questions
name, which decide who may see it at all.

A set quotes questions about its collections and names the documents that answer them, so it
is as private as they are: a caller sees a set only when every collection its questions name
is one they may read (``visible``). A collection that does not exist counts as unreadable, the
way retrieval treats it, so "hidden" and "absent" look the same. A file that no longer parses
is still shown with its reason when its collections can be read off its lines, and hidden when
they cannot (fail closed). Names stay global: uploading under a hidden set's name is refused
as ``set_exists``, since a name must keep its questions for the runs and gates that cite it.
"""

from __future__ import annotations

import json
from collections.abc import Collection as Names
from pathlib import Path

from app.evaluation.records import Origin, QuestionSet, UnreadableSet
from eval.runner import set_hash
from eval.sets_format import EvalQuestion, SetFormatError, load_set

Listed = QuestionSet | UnreadableSet


def describe(path: Path, origin: Origin) -> tuple[Listed, frozenset[str] | None]:
    """The set's listing entry and the collections it names (None: unknown)."""
    try:
        questions = load_set(path)
    except (SetFormatError, UnicodeDecodeError) as exc:
        reason = str(exc) if isinstance(exc, SetFormatError) else f"{path.name}: not UTF-8 text"
        return UnreadableSet(name=path.stem, origin=origin, error=reason), _named_on_lines(path)
    listed = QuestionSet(name=path.stem, origin=origin, questions=len(questions),
                         must_refuse=sum(q.must_refuse for q in questions),
                         sha256=set_hash(path))
    return listed, named_collections(questions)


def named_collections(questions: list[EvalQuestion]) -> frozenset[str]:
    return frozenset(c for q in questions for c in q.collections)


def visible(named: frozenset[str] | None, readable: Names[str]) -> bool:
    """Every collection the set names is readable (and it names at least one)."""
    return bool(named) and all(c in readable for c in named or ())


def _named_on_lines(path: Path) -> frozenset[str] | None:
    """The collections a set that does not parse names, if every line still says; else None."""
    named: set[str] = set()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    for line in lines:
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError:
            return None
        listed = data.get("collections") if isinstance(data, dict) else None
        if not isinstance(listed, list) or not listed or \
                not all(isinstance(c, str) and c for c in listed):
            return None
        named.update(listed)
    return frozenset(named)
