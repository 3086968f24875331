"""The answer an agent is shown: what is documented first, the model's words only where they
are supported.

A 135M model paraphrases badly while the sentence it was given says it right, so the shown
answer opens with that sentence, verbatim, with its citation (``Evidence.lead``). The model's
sentences follow only when the support check passed them, when they add something the lead
does not say, and when they are not the question said back; at most two, and the whole
answer stays short. Nothing is thrown away: every generated sentence stays in the record with
``shown`` saying whether the agent saw it, beside the raw generated text.

The lead never quotes a chunk flagged as a possible prompt injection, and a generated sentence
that repeats one (``app.answering.untrusted.Guard``) is not shown, whatever else it passes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from app.answering.evidence import Evidence
from app.answering.grounding import CheckedSentence
from app.answering.untrusted import Guard
from ingest.lexical import tokenize

MAX_WORDS = 90
MAX_GENERATED = 2
REDUNDANT = 0.8  # this share of a sentence's terms already in the lead: it adds nothing


@dataclass
class ShownSentence:
    text: str
    citations: list[int]
    supported: bool
    source: Literal["quoted", "generated"]  # verbatim from the cited chunk, or the model's
    shown: bool = True
    inferred: bool = False
    why_hidden: str = ""


@dataclass
class ShownAnswer:
    text: str
    sentences: list[ShownSentence] = field(default_factory=list)
    quotes: dict[int, str] = field(default_factory=dict)  # chunk n -> the quoted sentences

    @property
    def cited(self) -> set[int]:
        return {n for s in self.sentences if s.shown for n in s.citations}


def compose(evidence: Evidence, generated: list[CheckedSentence], *,
            max_words: int = MAX_WORDS, guard: Guard | None = None) -> ShownAnswer:
    """The lead sentences, then the generated sentences worth showing (``guard``: the
    flagged chunks a sentence may not repeat; by default, those of ``evidence``)."""
    if guard is None:
        guard = Guard.of(evidence.hits, "")
    language = evidence.hits[0].language if evidence.hits else "en"
    lead = evidence.lead()
    shown = ShownAnswer(text="")
    for s in lead:
        shown.sentences.append(ShownSentence(s.text, [s.chunk], True, "quoted"))
        shown.quotes[s.chunk] = f"{shown.quotes[s.chunk]} {s.text}" if s.chunk in shown.quotes \
            else s.text
    words = sum(len(s.text.split()) for s in lead)
    lead_terms = set(tokenize([" ".join(s.text for s in lead)], language)[0])
    kept = 0
    for g in generated:
        terms = set(tokenize([g.text], language)[0])
        why = guard.why_hidden(g.text, g.citations) or (
            "not supported by what it cites" if not g.supported
            else "says the question back" if terms <= evidence.terms
            else "repeats the documented sentence"
            if terms and len(terms & lead_terms) / len(terms) >= REDUNDANT
            else "the answer is long enough" if kept >= MAX_GENERATED
            or words + len(g.text.split()) > max_words else "")
        shown.sentences.append(ShownSentence(g.text, g.citations, g.supported, "generated",
                                             shown=not why, inferred=g.inferred,
                                             why_hidden=why))
        if not why:
            kept += 1
            words += len(g.text.split())
            lead_terms |= terms
    shown.text = " ".join(f"{s.text} [{', '.join(map(str, s.citations))}]" if s.citations
                          else s.text for s in shown.sentences if s.shown)
    return shown
