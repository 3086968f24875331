"""Import a public evaluation set (``../shared/eval/<set>/``) as a collection and question set.

A public set is ``corpus.jsonl`` (``{id, title, text}``), ``questions.jsonl`` (``{id, question,
answers[], relevant_doc_ids[]}``) and ``SOURCE.md``. ``import_public_set`` writes each corpus
document as ``<id>.txt`` (title on the first line, a blank line, then the text) under a work
directory, so the folder can be ingested like any collection, and turns every question into an
``EvalQuestion`` whose ``expected_documents`` are those file paths. Files whose content is
already on disk are not rewritten, so re-importing is cheap and a re-sync finds nothing changed.

``published_baselines`` pulls the figures other people published out of ``SOURCE.md``.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eval.sets_format import EvalQuestion, dump_set

SHARED_EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval"
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*$")
_METRIC = re.compile(r"^(nDCG@\d+|R@\d+|MRR@\d+|hit@\d+)$")


class PublicSetError(ValueError):
    """The public set is missing a file or has a malformed line."""


@dataclass(frozen=True)
class ImportedSet:
    name: str
    corpus_dir: Path
    questions: list[EvalQuestion]
    documents: int


@dataclass(frozen=True)
class Baseline:
    system: str
    metric: str
    value: float


def _jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    if not path.is_file():
        raise PublicSetError(f"{path} not found")
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if line.strip():
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise PublicSetError(f"{path.name}:{number}: {exc.msg}") from None
                if not isinstance(row, dict):
                    raise PublicSetError(f"{path.name}:{number}: not a JSON object")
                yield number, row


def document_path(doc_id: str) -> str:
    """The collection-relative file for a corpus id (``S08/data/set3/a4`` -> ``...a4.txt``)."""
    if not _SAFE_ID.match(doc_id) or ".." in doc_id.split("/"):
        raise PublicSetError(f"corpus id '{doc_id}' cannot be used as a file path")
    return f"{doc_id}.txt"


def _write_if_changed(path: Path, text: str) -> None:
    data = text.encode("utf-8")
    if path.is_file() and path.stat().st_size == len(data) and path.read_bytes() == data:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def import_public_set(source: Path, work_dir: Path, *, collection: str,
                      sample: int | None = None, seed: int = 0,
                      doc_ids: set[str] | None = None,
                      answers_as_key_facts: bool = True) -> ImportedSet:
    """Write the corpus under ``work_dir/corpus`` and return the questions in project format.

    ``sample`` keeps a fixed random sample of that many questions (sorted by id afterwards);
    ``doc_ids`` restricts the corpus to those documents (questions whose relevant documents
    are all left out are dropped). The question set is also written to
    ``work_dir/questions.jsonl``.
    """
    corpus_dir = work_dir / "corpus"
    wanted: set[str] = set()
    written = 0
    for number, row in _jsonl(source / "corpus.jsonl"):
        doc_id, title, text = row.get("id"), row.get("title", ""), row.get("text")
        if not isinstance(doc_id, str) or not isinstance(text, str) or not isinstance(title, str):
            raise PublicSetError(f"corpus.jsonl:{number}: needs string id, title and text")
        if doc_ids is not None and doc_id not in doc_ids:
            continue
        body = f"{title.strip()}\n\n{text.strip()}\n" if title.strip() else f"{text.strip()}\n"
        _write_if_changed(corpus_dir / document_path(doc_id), body)
        wanted.add(doc_id)
        written += 1
    questions: list[EvalQuestion] = []
    for number, row in _jsonl(source / "questions.jsonl"):
        qid, text = row.get("id"), row.get("question")
        relevant, answers = row.get("relevant_doc_ids"), row.get("answers", [])
        if not isinstance(qid, str) or not isinstance(text, str) or not isinstance(relevant, list):
            raise PublicSetError(f"questions.jsonl:{number}: needs id, question, relevant_doc_ids")
        kept = [document_path(d) for d in relevant if d in wanted]
        if not kept:
            continue
        facts = [a for a in answers if isinstance(a, str) and a] if answers_as_key_facts else []
        questions.append(EvalQuestion(
            id=qid, question=text, collections=(collection,),
            expected_documents=tuple(dict.fromkeys(kept)),
            key_facts=tuple(dict.fromkeys(facts)), tags=("public", source.name)))
    if sample is not None and sample < len(questions):
        questions = sorted(random.Random(seed).sample(questions, sample), key=lambda q: q.id)
    dump_set(questions, work_dir / "questions.jsonl")
    return ImportedSet(source.name, corpus_dir, questions, written)


def relevant_ids(source: Path, sample: int | None = None, seed: int = 0) -> list[str]:
    """Relevant document ids of (a fixed sample of) the questions, for building sub-corpora."""
    rows = [row for _, row in _jsonl(source / "questions.jsonl")]
    if sample is not None and sample < len(rows):
        rows = random.Random(seed).sample(rows, sample)
    return sorted({d for row in rows for d in row.get("relevant_doc_ids", [])})


def published_baselines(source: Path) -> list[Baseline]:
    """Figures from ``SOURCE.md``: every table column named like a metric (nDCG@10, R@100,
    MRR@10, hit@5) and ``<metric> <value>`` pairs in prose (labelled by their sentence)."""
    path = source / "SOURCE.md"
    if not path.is_file():
        return []
    found: list[Baseline] = []
    header: list[str] = []
    label = "SOURCE.md"
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if all(set(c) <= set("-: ") for c in cells):
                continue
            if not header:
                header = cells
                continue
            for name, cell in zip(header[1:], cells[1:], strict=False):
                if _METRIC.match(name) and re.fullmatch(r"\d*\.\d+", cell):
                    found.append(Baseline(cells[0], name, float(cell)))
            continue
        header = []
        if not line.strip():
            label = "SOURCE.md"  # a prose label lasts until the end of its paragraph
        matches = list(re.finditer(r"(nDCG@\d+|R@\d+|MRR@\d+)\s+(\d*\.\d+)", line))
        if matches:  # label: the sentence the first figure sits in, up to "gives"
            lead = re.split(r"(?<=[.:])\s+", line[: matches[0].start()])[-1]
            label = re.split(r"\s+gives\b", lead)[0].strip(" -*,") or label
            found += [Baseline(label, m.group(1), float(m.group(2))) for m in matches]
    return found
