"""Structure-aware chunking: sections -> overlapping chunks that never cross a page.

Consecutive small sections of one page are first merged while they fit in one chunk: the
merged chunk's heading is their common heading path and each sub-heading stays in the text as
its own line (so "NWL-VPN-809: certificate expired" is still found and quoted). Without this a
playbook of many short sections becomes many 40-word chunks: slower to embed, and each too
thin to answer from. Paragraphs are packed up to ``chunk_words``; a paragraph longer than
that is packed sentence by sentence (and a sentence longer than that is cut by words).
Neighbouring chunks of one section share about ``overlap_words`` words so a fact on a
boundary is whole in at least one chunk.

Chunks are bounded in characters too, always: ``chunk_words * CHARS_PER_WORD``. Words are no
bound on their own: a text without spaces (a 24 MB base64 blob, a minified file) is one
"word", and would be one chunk that fills every search result and the LLM's whole context.
Runs of words are cut at spaces to fit the bound; a single word longer than it is cut hard.

A chunk id hashes the collection, the document path, the chunk's position and its text: ids stay
stable across runs while the content is unchanged, and change when the content does.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ingest.sections import Section
from ingest.sentences import split_sentences

# Ordinary prose averages 5-7 characters a word with its space; 12 leaves room for long
# words, codes and URLs while keeping a chunk within a few times its token budget.
CHARS_PER_WORD = 12


@dataclass(frozen=True)
class ChunkDraft:
    id: str
    ord: int
    text: str
    heading: str
    page: int | None
    text_hash: str  # of embedding_text(): equal hashes may share one vector


def _cut(text: str, max_chars: int) -> list[str]:
    """``text`` in pieces of at most ``max_chars`` characters, cut hard."""
    return [text[start : start + max_chars] for start in range(0, len(text), max_chars)]


def _units(text: str, limit: int, max_chars: int) -> list[str]:
    """Paragraphs, or sentences/word runs where a paragraph is over ``limit`` words; none over
    ``max_chars`` characters."""
    units: list[str] = []
    for para in (p.strip() for p in text.split("\n\n")):
        if not para:
            continue
        if len(para) <= max_chars and len(para.split()) <= limit:
            units.append(para)
            continue
        for sentence in split_sentences(para):
            units.extend(_runs(sentence.split(), limit, max_chars))
    return units


def _runs(words: list[str], limit: int, max_chars: int) -> Iterator[str]:
    """Runs of at most ``limit`` words and ``max_chars`` characters; a word longer than that
    on its own is cut hard."""
    run: list[str] = []
    chars = 0
    for word in words:
        if run and (len(run) == limit or chars + 1 + len(word) > max_chars):
            yield " ".join(run)
            run, chars = [], 0
        if len(word) > max_chars:
            yield from _cut(word, max_chars)
            continue
        chars += len(word) + (1 if run else 0)
        run.append(word)
    if run:
        yield " ".join(run)


def _pack(units: list[str], limit: int, overlap: int, max_chars: int) -> list[str]:
    """Units packed into chunks of at most ``limit`` words and ``max_chars`` characters, each
    chunk starting with the whole units of at most ``overlap`` words that ended the last."""
    chunks: list[str] = []
    current: list[str] = []
    size = chars = 0
    for unit in units:
        n = len(unit.split())
        if current and (size + n > limit or chars + len(unit) > max_chars):
            chunks.append("\n\n".join(current))
            # carry the tail of the previous chunk (whole units) as overlap
            carried: list[str] = []
            carried_size = carried_chars = 0
            for prev in reversed(current):
                m = len(prev.split())
                if carried_size + m > overlap:
                    break
                carried.insert(0, prev)
                carried_size += m
                carried_chars += len(prev) + 2
            if carried_chars + len(unit) > max_chars:
                carried, carried_size, carried_chars = [], 0, 0
            current, size, chars = carried, carried_size, carried_chars
        current.append(unit)
        size += n
        chars += len(unit) + 2  # with the blank line that joins it to the next
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
    # surrogatepass: a lone surrogate that slipped through must not abort a whole re-index
    key = f"{collection}\x00{path}\x00{ord_}\x00{text}".encode(errors="surrogatepass")
    return hashlib.sha256(key).hexdigest()[:32]


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode(errors="surrogatepass")).hexdigest()


def iter_chunks(
    sections: Iterable[Section],
    *,
    collection: str,
    path: str,
    title: str = "",
    chunk_words: int = 160,
    overlap_words: int = 30,
) -> Iterator[ChunkDraft]:
    """Chunks of a document's sections, numbered in document order, made as they are taken
    (a caller that stops at a chunk limit does not pay for the rest)."""
    overlap = min(overlap_words, chunk_words // 2)
    max_chars = chunk_words * CHARS_PER_WORD
    ord_ = 0
    for section in merge_small_sections(sections, chunk_words):
        sentence_limit = max(chunk_words - overlap, 1)
        units = _units(section.text, sentence_limit, max_chars)
        for text in _pack(units, chunk_words, overlap, max_chars):
            yield ChunkDraft(
                id=chunk_id(collection, path, ord_, text),
                ord=ord_,
                text=text,
                heading=section.heading,
                page=section.page,
                text_hash=text_hash(embedding_text(title, section.heading, text)),
            )
            ord_ += 1


def chunk_sections(
    sections: Iterable[Section],
    *,
    collection: str,
    path: str,
    title: str = "",
    chunk_words: int = 160,
    overlap_words: int = 30,
) -> list[ChunkDraft]:
    """All chunks of a document's sections (``iter_chunks`` as a list)."""
    return list(iter_chunks(sections, collection=collection, path=path, title=title,
                            chunk_words=chunk_words, overlap_words=overlap_words))


def embedding_text(title: str, heading: str, text: str) -> str:
    """What the embedder and BM25 see: the chunk with its title and heading as context."""
    head = " — ".join(part for part in (title, heading) if part)
    return f"{head}\n{text}" if head else text
