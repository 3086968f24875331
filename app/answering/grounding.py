"""Check a generated answer against the chunks it was given: citations, support, quotes.

Everything here is done in code, after generation, because a small model will cite numbers
that don't exist and state facts its sources don't hold:

- ``[n]`` markers are kept only when n is one of the chunks actually put in the prompt;
  any other marker is removed from the text.
- Each answer sentence is marked supported when its content words are mostly found in its
  cited evidence and every number or code in it (``NWL-VPN-809``, ``25 MB``) appears there
  verbatim: numbers are where small models invent. A sentence that only says the question
  back (every term of it is the question's) is never supported, in any language: its words
  are in the evidence because the question's are. A sentence without a marker is checked
  against every given chunk; if one supports it, that citation is added as ``inferred``.
- For each cited chunk, the quote is its sentence closest (by embedding) to the question and
  the answer sentences citing it: the reader sees the documented words, not a paraphrase.

Every chunk is checked in its own collection's language and embedded with its own collection's
model (both ride on the ``Hit``), since one answer may draw on collections of two languages.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from app.knowledge.search import Hit
from ingest.lexical import tokenize
from ingest.sentences import split_sentences
from models.embedder import EmbedderProtocol

CITATION_MARKER = re.compile(r"\s*\[(\d+(?:\s*,\s*\d+)*)\]")  # [1] or [1, 2]

_NUMBERISH = re.compile(r"\b[\w-]*\d[\w-]*(?:[.:/]\d+)*\b")
SUPPORT_COVERAGE = 0.6
QUOTE_MAX_CHARS = 400
Embedders = Callable[[str | None], EmbedderProtocol]
"""A collection's embedding model setting (None: the server default) -> the model; in the
app ``EmbedderPool.get``."""
_IDK = re.compile(r"\b(i do not know|i don'?t know|not (?:in|covered by) the documents"
                  r"|weet ik (?:het )?niet|ik weet het niet)\b", re.I)


@dataclass
class CheckedSentence:
    text: str
    citations: list[int]
    supported: bool
    inferred: bool = False


@dataclass
class CitedChunk:
    n: int
    hit: Hit
    quote: str
    inferred: bool = False


@dataclass
class GroundedAnswer:
    text: str
    sentences: list[CheckedSentence] = field(default_factory=list)
    citations: list[CitedChunk] = field(default_factory=list)
    dropped_markers: list[int] = field(default_factory=list)
    says_unknown: bool = False


def numbers(text: str) -> set[str]:
    """Codes and numbers in ``text``, lower-cased (``nwl-vpn-809``, ``25``, ``2.5``)."""
    return {m.group(0).lower() for m in _NUMBERISH.finditer(text)}


def is_supported(sentence: str, evidence: Sequence[str], language: str = "en") -> bool:
    """Lexical support: most content words present and every number/code verbatim."""
    words = set(tokenize([sentence], language)[0])
    if not evidence:
        return False
    joined = "\n".join(evidence)
    ev_words = set(tokenize([joined], language)[0])
    lowered = joined.lower()
    if any(num not in lowered for num in numbers(sentence)):
        return False
    if not words:
        return False
    return len(words & ev_words) / len(words) >= SUPPORT_COVERAGE


def clean_citations(text: str, valid: int) -> tuple[str, list[int]]:
    """Remove markers that don't point at one of ``valid`` chunks; return the dropped ones."""
    dropped: list[int] = []

    def keep(match: re.Match[str]) -> str:
        nums = [int(x) for x in re.split(r"\s*,\s*", match.group(1))]
        good = [n for n in nums if 1 <= n <= valid]
        dropped.extend(n for n in nums if not 1 <= n <= valid)
        return f" [{', '.join(str(n) for n in good)}]" if good else ""

    return CITATION_MARKER.sub(keep, text).strip(), dropped


def ground(answer: str, question: str, chunks: Sequence[Hit],
           embedders: Embedders) -> GroundedAnswer:
    """Validate citations, mark sentence support and pick quotes for ``answer``.

    Each chunk is analysed in its own collection's language and quoted with its own
    collection's embedding model (``embedders`` maps a collection's setting to the model):
    a question over an English and a Dutch collection must not stem Dutch with English rules.
    """
    result = check(answer, question, chunks)
    explicit = {n for s in result.sentences if not s.inferred for n in s.citations}
    inferred = {n for s in result.sentences if s.inferred for n in s.citations} - explicit
    targets = [" ".join([question, *(s.text for s in result.sentences if n in s.citations)])
               for n in range(1, len(chunks) + 1)]
    quotes = dict(enumerate(best_quotes(chunks, targets, question, embedders), start=1))
    if chunks and not any(
            s.supported and not s.inferred for s in result.sentences):
        # no sentence stands on a citation of its own: add the retrieved evidence that best
        # matches the question, flagged as inferred, so the agent can read the source itself
        best = max(quotes, key=lambda n: quotes[n][0])
        if best not in explicit:
            inferred.add(best)
    for n in sorted(explicit | inferred):
        result.citations.append(CitedChunk(n=n, hit=chunks[n - 1], inferred=n in inferred,
                                         quote=quotes[n][1]))
    return result


def check(answer: str, question: str, chunks: Sequence[Hit]) -> GroundedAnswer:
    """Validate the citations of ``answer`` and mark each sentence's support, without
    picking quotes (an evidence-first answer quotes from its evidence instead)."""
    text, dropped = clean_citations(answer, len(chunks))
    result = GroundedAnswer(text=text, dropped_markers=dropped,
                            says_unknown=bool(_IDK.search(text)))
    asked: dict[str, set[str]] = {}

    def echoes(sentence: str, language: str) -> bool:
        if language not in asked:
            asked[language] = set(tokenize([question], language)[0])
        return set(tokenize([sentence], language)[0]) <= asked[language]

    for raw in split_sentences(text):
        cited = sorted({int(x) for m in CITATION_MARKER.finditer(raw) for x in re.split(r"\s*,\s*",
                                                                                  m.group(1))})
        plain = CITATION_MARKER.sub("", raw).strip()
        if not plain:
            continue
        if cited:
            evidence = [chunks[n - 1].text for n in cited]
            languages = dict.fromkeys(chunks[n - 1].language for n in cited)
            ok = any(is_supported(plain, evidence, language)
                     and not echoes(plain, language) for language in languages)
            result.sentences.append(CheckedSentence(plain, cited, ok))
            continue
        best = next((n for n, c in enumerate(chunks, start=1)
                     if is_supported(plain, [c.text], c.language)
                     and not echoes(plain, c.language)), None)
        result.sentences.append(
            CheckedSentence(plain, [best] if best else [], best is not None, inferred=bool(best))
        )
    return result


def best_quotes(chunks: Sequence[Hit], targets: Sequence[str], question: str,
                embedders: Embedders) -> list[tuple[float, str]]:
    """Per chunk, its sentence that best matches its target (plus the next one if short).

    The score adds to the embedding similarity the share of the question's words the
    sentence (with its heading) contains, and a bonus when it holds a code or number the
    question names: an agent asking about ``NWL-VPN-809`` wants the line that says it.
    Chunks are grouped by their collection's embedding model (a target and a sentence are
    only comparable in one vector space), and every target and sentence of a group goes
    through its embedder in one call: one batch of ~40 short texts instead of one call per
    chunk (and batches of 8+ take the bfloat16 path).
    """
    sentence_lists = [[s for s in split_sentences(c.text) if len(s) > 3] or [c.text]
                      for c in chunks]
    groups: dict[str, tuple[EmbedderProtocol, list[int]]] = {}
    for i, chunk in enumerate(chunks):
        model = embedders(chunk.embedder)
        groups.setdefault(model.model_id, (model, []))[1].append(i)
    q_numbers = numbers(question)
    q_words: dict[str, set[str]] = {}
    picked: dict[int, tuple[float, str]] = {}
    for model, members in groups.values():
        unique_targets = list(dict.fromkeys(targets[i] for i in members))
        vectors = model.embed([*unique_targets,
                               *(s for i in members for s in sentence_lists[i])])
        target_row = {t: row for row, t in enumerate(unique_targets)}
        offset = len(unique_targets)
        for i in members:
            chunk, sentences = chunks[i], sentence_lists[i]
            scores = vectors[offset: offset + len(sentences)] @ vectors[target_row[targets[i]]]
            offset += len(sentences)
            if chunk.language not in q_words:
                q_words[chunk.language] = set(tokenize([question], chunk.language)[0])
            picked[i] = _pick(chunk, sentences, scores, q_words[chunk.language], q_numbers)
    return [picked[i] for i in range(len(chunks))]


def _pick(chunk: Hit, sentences: list[str], scores: npt.NDArray[np.float32], q_words: set[str],
          q_numbers: set[str]) -> tuple[float, str]:
    heading = chunk.heading.lower()
    for i, sentence in enumerate(sentences):
        context = f"{heading} {sentence}"
        if q_words:
            words = set(tokenize([context], chunk.language)[0])
            scores[i] += 0.3 * len(words & q_words) / len(q_words)
        if q_numbers and any(num in context.lower() for num in q_numbers):
            scores[i] += 0.3
    best = int(np.argmax(scores))
    quote = sentences[best]
    if len(quote) < 60 and best + 1 < len(sentences):
        quote = f"{quote} {sentences[best + 1]}"
    if len(quote) > QUOTE_MAX_CHARS:
        quote = quote[: QUOTE_MAX_CHARS - 1] + "…"
    return float(scores[best]), quote
