"""Sanity checks for the demo knowledge base and its question sets.

Usage (from the repository root):

    .venv/bin/python demo/verify_kb.py

Checks: JSON lines valid, ids unique, expected documents exist, every key fact occurs
(case-insensitive, whitespace-normalised) in the expected document - on the expected page for
PDFs with "expected_pages" -, every document is covered by at least one question, document
sizes (300-1500 words), PDF page counts (3-6), DOCX heading styles, HTML boilerplate, total
size of demo/. Exits non-zero on errors; warnings (e.g. a key fact that also occurs in another
document) are informational.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

import docx
import pypdf
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "demo"
SETS = {
    "demo": (ROOT / "eval/sets/demo.jsonl", DEMO / "kb"),
    "demo-nl": (ROOT / "eval/sets/demo-nl.jsonl", DEMO / "kb-nl"),
}
FORMATS = {".pdf": "pdf", ".docx": "docx", ".html": "html", ".md": "md", ".txt": "txt"}
BOILERPLATE = ["canteen menu", "erwtensoep", "cookie settings", "was this page helpful"]

errors: list[str] = []
warnings: list[str] = []


def norm(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip().lower()


def pdf_pages(path: Path) -> list[str]:
    return [p.extract_text() or "" for p in pypdf.PdfReader(path).pages]


def docx_text(path: Path) -> str:
    d = docx.Document(str(path))
    parts = [p.text for p in d.paragraphs]
    for t in d.tables:
        for row in t.rows:
            parts.append(" | ".join(c.text for c in row.cells))
    return "\n".join(parts)


def html_text(path: Path) -> str:
    soup = BeautifulSoup(path.read_text(encoding="utf-8"), "lxml")
    main = soup.find("main")
    if main is None:
        errors.append(f"{path}: no <main>")
        return soup.get_text(" ")
    for tag in main.find_all(["script", "style", "nav", "footer"]):
        tag.decompose()
    return main.get_text(" ")


def doc_text(path: Path) -> tuple[str, list[str] | None]:
    ext = path.suffix
    if ext == ".pdf":
        pages = pdf_pages(path)
        return "\n".join(pages), pages
    if ext == ".docx":
        return docx_text(path), None
    if ext == ".html":
        return html_text(path), None
    return path.read_text(encoding="utf-8"), None


def check_documents(kb: Path) -> dict[str, tuple[str, list[str] | None]]:
    texts: dict[str, tuple[str, list[str] | None]] = {}
    for path in sorted(p for p in kb.rglob("*") if p.is_file()):
        rel = path.relative_to(kb).as_posix()
        if path.suffix not in FORMATS:
            errors.append(f"{rel}: unexpected file type")
            continue
        text, pages = doc_text(path)
        texts[rel] = (text, pages)
        words = len(text.split())
        if not 300 <= words <= 1500:
            errors.append(f"{kb.name}/{rel}: {words} words (want 300-1500)")
        if pages is not None and not 3 <= len(pages) <= 6:
            errors.append(f"{rel}: {len(pages)} pages (want 3-6)")
        if path.suffix == ".pdf" and not text.isascii():
            errors.append(f"{rel}: non-ASCII text in PDF")
        if path.suffix == ".docx":
            d = docx.Document(str(path))
            styles = {p.style.name for p in d.paragraphs}
            for s in ("Heading 1", "Heading 2", "Heading 3"):
                if s not in styles:
                    errors.append(f"{rel}: no paragraph with style {s}")
        if path.suffix == ".html":
            raw = path.read_text(encoding="utf-8").lower()
            for tag in ("<nav", "<header", "<script", "<main", "<footer", "<table", "<h1", "<h2", "<h3"):
                if tag not in raw:
                    errors.append(f"{rel}: missing {tag}>")
            low = norm(text)
            for b in BOILERPLATE:
                if b in low:
                    errors.append(f"{rel}: boilerplate '{b}' leaks into <main> text")
    return texts


def check_set(name: str, set_path: Path, kb: Path, seen_ids: set[str]) -> None:
    texts = check_documents(kb)
    covered: Counter[str] = Counter()
    n_ok = n_refuse = 0
    for lineno, line in enumerate(set_path.read_text(encoding="utf-8").splitlines(), 1):
        where = f"{set_path.name}:{lineno}"
        try:
            q = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(f"{where}: invalid JSON ({exc})")
            continue
        for key in ("id", "question", "collections", "expected_documents", "key_facts", "must_refuse", "tags"):
            if key not in q:
                errors.append(f"{where}: missing key {key}")
        qid = q.get("id")
        if qid in seen_ids:
            errors.append(f"{where}: duplicate id {qid}")
        seen_ids.add(qid)
        if q.get("collections") != [name]:
            errors.append(f"{where}: collections should be ['{name}']")
        if q["must_refuse"]:
            n_refuse += 1
            if q["expected_documents"] or q["key_facts"] or "unanswerable" not in q["tags"]:
                errors.append(f"{where}: must_refuse question with documents/facts or without 'unanswerable' tag")
            continue
        n_ok += 1
        if not q["expected_documents"] or not 1 <= len(q["key_facts"]) <= 3:
            errors.append(f"{where}: need expected_documents and 1-3 key_facts")
        for rel in q["expected_documents"]:
            if rel not in texts:
                errors.append(f"{where}: expected document {rel} does not exist")
                continue
            covered[rel] += 1
            fmt = FORMATS[Path(rel).suffix]
            if fmt not in q["tags"]:
                errors.append(f"{where}: format tag '{fmt}' missing")
            text, pages = texts[rel]
            for fact in q["key_facts"]:
                if norm(fact) not in norm(text):
                    errors.append(f"{where}: key fact {fact!r} not in {rel}")
                elif fact.lower() not in text.lower():
                    warnings.append(f"{where}: key fact {fact!r} only matches after whitespace normalisation")
                if pages is not None and q.get("expected_pages"):
                    on_pages = [i + 1 for i, p in enumerate(pages) if norm(fact) in norm(p)]
                    if not set(on_pages) & set(q["expected_pages"]):
                        errors.append(f"{where}: {fact!r} not on pages {q['expected_pages']} (found on {on_pages})")
                others = [o for o, (t, _) in texts.items() if o != rel and norm(fact) in norm(t)]
                if others:
                    warnings.append(f"{where}: key fact {fact!r} also occurs in {', '.join(others)}")
        if q.get("expected_pages") and not all(Path(r).suffix == ".pdf" for r in q["expected_documents"]):
            errors.append(f"{where}: expected_pages on a non-PDF document")
    for rel in texts:
        if not covered[rel]:
            errors.append(f"{name}: document {rel} is not covered by any question")
    fmts = Counter(FORMATS[Path(r).suffix] for r in texts)
    print(f"{name}: {len(texts)} documents {dict(fmts)}; {n_ok} answerable + {n_refuse} must_refuse questions")


def main() -> int:
    seen: set[str] = set()
    for name, (set_path, kb) in SETS.items():
        check_set(name, set_path, kb, seen)
    size = sum(p.stat().st_size for p in DEMO.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    print(f"demo/ size: {size / 1024:.0f} KiB")
    if size >= 2 * 1024 * 1024:
        errors.append("demo/ is larger than 2 MB")
    for w in warnings:
        print("WARN ", w)
    for e in errors:
        print("ERROR", e)
    print("OK" if not errors else f"{len(errors)} error(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
