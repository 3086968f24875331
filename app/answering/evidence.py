"""Evidence: the sentences of the retrieved chunks that bear on the question.

A small model answers better from less. Every sentence of the retrieved chunks is scored
against the question: the embedding similarity of the sentence (read under its heading path)
to the question, plus the share of the question's terms it holds (stemmed in its collection's
language), plus a bonus when it holds a code or number the question names (an agent asking
about ``NWL-VPN-809`` wants the line that says it), plus a little for the chunk's retrieval
rank. What the prompt gets is, per chunk, its best sentences with their neighbours under a
word budget; what the agent is shown first (``lead``) is the best sentence verbatim, and a
second one when it carries question terms the first lacks.

The sentence vectors stay with the evidence: the refusal gate (``app.answering.refusals``)
compares the question's rare words with them.

A chunk ingest flagged as a possible prompt injection (``Hit.injection``) is scored like any
other, so it can be cited, but its sentences never lead: the shown answer never opens with
what an attacker wrote. Whether it enters the prompt is the caller's choice (``leave_out``).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from app.answering.grounding import Embedders, numbers
from app.knowledge.search import Hit
from ingest.lexical import tokenize
from ingest.sentences import split_sentences
from models.embedder import EmbedderProtocol

TERM_WEIGHT = 0.35  # the share of question terms a sentence holds, next to its cosine
CODE_BONUS = 0.3  # a sentence naming a code or number the question names
EVIDENCE_CHUNKS = 4  # retrieved chunks whose sentences are scored
RANK_WEIGHT = 0.08  # the chunk's retrieval rank: 1st +0.08, 2nd +0.04, ...
@dataclass(frozen=True)
class Scored:
    """One sentence of one retrieved chunk, scored against the question."""

    chunk: int  # 1-based: the chunk's number in the prompt and in ``[n]``
    position: int  # the sentence's place in its chunk
    text: str
    score: float
    terms: frozenset[str]  # the question's terms it holds (with its heading)


@dataclass
class Evidence:
    """The retrieved chunks split into scored sentences, best first."""

    hits: list[Hit]
    sentences: list[list[str]]  # per chunk, in document order
    ranked: list[Scored]
    terms: frozenset[str]  # the question's terms (the first chunk's language)
    # per chunk, its sentences' vectors (rows in ``sentences`` order), in its model's space
    vectors: list[npt.NDArray[np.float32]] = field(default_factory=list, repr=False)

    @property
    def trusted(self) -> list[Scored]:
        """``ranked`` without the sentences of chunks flagged as a possible injection."""
        return [s for s in self.ranked if not self.hits[s.chunk - 1].injection]

    def passages(self, budget_words: int, *, leave_out: Collection[int] = ()
                 ) -> dict[int, str]:
        """Chunk number -> its best sentences and their neighbours in document order, the
        best sentences of all chunks first, until ``budget_words`` is spent (the best
        sentence always, cut to the budget). A chunk none of whose sentences fits is left
        out: the prompt is what time to first token is spent on; so is every chunk numbered
        in ``leave_out`` (a quarantined one), whose words the budget never pays for."""
        picked: dict[int, set[int]] = {}
        spent = 0
        ranked = [s for s in self.ranked if s.chunk not in leave_out]
        for s in ranked:
            siblings = self.sentences[s.chunk - 1]
            taken = picked.get(s.chunk, set())
            window = [p for p in (s.position - 1, s.position, s.position + 1)
                      if 0 <= p < len(siblings) and p not in taken]
            cost = sum(len(siblings[p].split()) for p in window)
            if spent + cost > budget_words:
                window = [s.position] if s.position not in taken else []
                cost = sum(len(siblings[p].split()) for p in window)
                if not window or spent + cost > budget_words:
                    continue
            picked.setdefault(s.chunk, set()).update(window)
            spent += cost
        if not picked and ranked:
            best = ranked[0]
            return {best.chunk: " ".join(best.text.split()[:budget_words])}
        return {n: " ".join(self.sentences[n - 1][p] for p in sorted(positions))
                for n, positions in sorted(picked.items())}

    def closest_in(self, n: int, text: str) -> str:
        """Chunk ``n``'s sentence sharing the most terms with ``text`` (the generated
        sentences that cite it): what to quote for them; the chunk's best-scored sentence
        on a tie."""
        if not 1 <= n <= len(self.hits):
            return ""
        language = self.hits[n - 1].language
        wanted = set(tokenize([text], language)[0])
        candidates = self.sentences[n - 1]
        overlap = [len(wanted & set(t)) for t in tokenize(candidates, language)]
        by_score = [s.position for s in self.ranked if s.chunk == n]  # best first
        return candidates[max(by_score, key=lambda p: overlap[p])]  # max keeps the first

    def lead(self, *, max_words: int = 60) -> list[Scored]:
        """What the shown answer opens with: the best sentence, and the next best that
        holds question terms the first lacks (two halves of one answer), within
        ``max_words``. Never a sentence of a flagged chunk: none if every chunk is."""
        ranked = self.trusted
        if not ranked:
            return []
        best = ranked[0]
        chosen = [best]
        words = len(best.text.split())
        siblings = self.sentences[best.chunk - 1]
        if words < SHORT_LEAD_WORDS and best.position + 1 < len(siblings):
            # a label ("NWL-VPN-809: certificate expired") is read with the line after it
            following = siblings[best.position + 1]
            chosen.append(Scored(best.chunk, best.position + 1, following, best.score,
                                 best.terms))
            words += len(following.split())
        for s in ranked[1:6]:
            if s.score < best.score - 0.25 or not (s.terms - best.terms):
                continue
            if words + len(s.text.split()) <= max_words \
                    and all(s.text != c.text for c in chosen):
                chosen.append(s)
                break
        chosen.sort(key=lambda s: (s.chunk, s.position))
        if words > max_words:  # one long sentence (a flattened table): its start, marked cut
            first = chosen[0]
            return [replace(first, text=" ".join(first.text.split()[:max_words]) + " …")]
        return chosen


_LIST_ITEM = re.compile(r"^(?:[-*•]|\d+[.)])\s")
_ENDS = (".", "!", "?", ":", ";")
SHORT_LEAD_WORDS = 12


def sentences_of(text: str) -> list[str]:
    """``split_sentences``, with a sentence that a line break cut in two (a PDF's lines:
    "... can issue a Temporary" / "Access Pass ...") joined again. A piece is continued when it
    is longer than a label, ends without punctuation and the next piece is not a list item."""
    joined: list[str] = []
    for piece in split_sentences(text):
        if joined and len(joined[-1]) > 40 and not joined[-1].endswith(_ENDS) \
                and not _LIST_ITEM.match(piece):
            joined[-1] = f"{joined[-1]} {piece}"
        else:
            joined.append(piece)
    return joined


def gather(question: str, hits: Sequence[Hit], embedders: Embedders) -> Evidence:
    """Split ``hits`` into sentences and score each against ``question`` (see the module
    doc), the first ``EVIDENCE_CHUNKS`` of them: embedding every sentence is most of the time
    before the first token, and the lead comes from the top chunks (the demo set's key facts
    are covered as well from four as from five). All sentences of chunks sharing an embedding
    model go through it in one batch."""
    hits = hits[:EVIDENCE_CHUNKS]
    sentences = [[s for s in sentences_of(h.text) if len(s) > 3] or [h.text] for h in hits]
    q_numbers = numbers(question)
    q_terms: dict[str, frozenset[str]] = {}
    ranked: list[Scored] = []
    vectors: dict[int, npt.NDArray[np.float32]] = {}
    groups: dict[str, tuple[EmbedderProtocol, list[int]]] = {}
    for i, hit in enumerate(hits):
        model = embedders(hit.embedder)
        groups.setdefault(model.model_id, (model, []))[1].append(i)
    for model, members in groups.values():
        texts = [f"{hits[i].heading}: {s}" if hits[i].heading else s
                 for i in members for s in sentences[i]]
        embedded = model.embed([question, *texts])
        row = 1
        for i in members:
            hit = hits[i]
            vectors[i] = embedded[row: row + len(sentences[i])]
            if hit.language not in q_terms:
                q_terms[hit.language] = frozenset(tokenize([question], hit.language)[0])
            terms = q_terms[hit.language]
            heading_terms = set(tokenize([f"{hit.title} {hit.heading}"], hit.language)[0])
            for position, sentence in enumerate(sentences[i]):
                cosine = float(embedded[row] @ embedded[0])
                row += 1
                held = frozenset(terms & (set(tokenize([sentence], hit.language)[0])
                                          | heading_terms))
                score = cosine + (TERM_WEIGHT * len(held) / len(terms) if terms else 0.0)
                if q_numbers and any(n in sentence.lower() for n in q_numbers):
                    score += CODE_BONUS
                score += RANK_WEIGHT / (i + 1)
                ranked.append(Scored(i + 1, position, sentence, score, held))
    ranked.sort(key=lambda s: -s.score)
    first_language = hits[0].language if hits else "en"
    return Evidence(hits=list(hits), sentences=sentences, ranked=ranked,
                    terms=q_terms.get(first_language, frozenset()),
                    vectors=[vectors[i] for i in range(len(hits))])
