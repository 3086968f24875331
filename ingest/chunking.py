"""Structure-aware chunking: sections -> overlapping chunks that never cross a page.

Consecutive small sections of one page are first merged while they fit in one chunk: the
merged chunk's heading is their common heading path and each sub-heading stays in the text as
its own line (so "NWL-VPN-809: certificate expired" is still found and quoted). Without this a
playbook of many short sections becomes many 40-word chunks: slower to embed, and each too
thin to answer from. Paragraphs are packed up to ``chunk_words``; a paragraph longer than
that is packed sentence by sentence (and a sentence longer than that is cut by words).
Neighbouring chunks of one section share about ``overlap_words`` words so a fact on a
boundary is whole in at least one chunk.
A chunk id hashes the collection, the document path, the chunk's position and its text: ids stay
stable across runs while the content is unchanged, and change when the content does.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from ingest.sections import Section
from ingest.sentences import split_sentences


@dataclass(frozen=True)
class ChunkDraft:
    id: str
    ord: int
    text: str
    heading: str
    page: int | None
    text_hash: str  # of embedding_text(): equal hashes may share one vector


def _units(text: str, limit: int) -> list[str]:
    """Paragraphs, or sentences/word runs where a paragraph is over ``limit`` words."""
    units: list[str] = []
    for para in (p.strip() for p in text.split("\n\n")):
        if not para:
            continue
        if len(para.split()) <= limit:
            units.append(para)
            continue
        for sentence in split_sentences(para):
            words = sentence.split()
            for start in range(0, len(words), limit):
                units.append(" ".join(words[start : start + limit]))
    return units


def _pack(units: list[str], limit: int, overlap: int) -> list[str]:
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for unit in units:
        n = len(unit.split())
        if current and size + n > limit:
            chunks.append("\n\n".join(current))
            # carry the tail of the previous chunk (whole units) as overlap
            carried: list[str] = []
            carried_size = 0
            for prev in reversed(current):
                m = len(prev.split())
                if carried_size + m > overlap:
                    break
                carried.insert(0, prev)
                carried_size += m
            current, size = carried, carried_size
        current.append(unit)
        size += n
    if current:
        chunks.append("\n\n".join(current))
    return chunks


def _common_prefix(paths: list[tuple[str, ...]]) -> tuple[str, ...]:
    first = paths[0]
    n = 0
    while n < len(first) and all(len(p) > n and p[n] == first[n] for p in paths):
        n += 1
    return first[:n]


def _render(group: list[Section]) -> Section:
    common = _common_prefix([s.headings for s in group])
    parts = []
    for s in group:
        rest = s.headings[len(common):]
        parts.append(f"{' > '.join(rest)}\n{s.text}" if rest else s.text)
    return Section("\n\n".join(parts), common, group[0].page)


def merge_small_sections(sections: Iterable[Section], limit: int) -> list[Section]:
    """Merge runs of consecutive same-page sections whose words (with their sub-headings)
    fit in ``limit``; a section that is large on its own is left alone."""
    merged: list[Section] = []
    group: list[Section] = []
    size = 0
    for section in sections:
        n = len(section.text.split()) + sum(len(h.split()) for h in section.headings[-1:])
        if group and (section.page != group[0].page or size + n > limit):
            merged.append(_render(group))
            group, size = [], 0
        group.append(section)
        size += n
    if group:
        merged.append(_render(group))
    return merged


def chunk_id(collection: str, path: str, ord_: int, text: str) -> str:
    digest = hashlib.sha256(f"{collection}\x00{path}\x00{ord_}\x00{text}".encode())
    return digest.hexdigest()[:32]


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def chunk_sections(
    sections: Iterable[Section],
    *,
    collection: str,
    path: str,
    title: str = "",
    chunk_words: int = 160,
    overlap_words: int = 30,
) -> list[ChunkDraft]:
    """Chunks of a document's sections, numbered in document order."""
    drafts: list[ChunkDraft] = []
    overlap = min(overlap_words, chunk_words // 2)
    for section in merge_small_sections(sections, chunk_words):
        sentence_limit = max(chunk_words - overlap, 1)
        for text in _pack(_units(section.text, sentence_limit), chunk_words, overlap):
            ord_ = len(drafts)
            drafts.append(
                ChunkDraft(
                    id=chunk_id(collection, path, ord_, text),
                    ord=ord_,
                    text=text,
                    heading=section.heading,
                    page=section.page,
                    text_hash=text_hash(embedding_text(title, section.heading, text)),
                )
            )
    return drafts


def embedding_text(title: str, heading: str, text: str) -> str:
    """What the embedder and BM25 see: the chunk with its title and heading as context."""
    head = " — ".join(part for part in (title, heading) if part)
    return f"{head}\n{text}" if head else text
