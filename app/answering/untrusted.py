"""Retrieved text flagged as a possible prompt injection, at answer time (OWASP LLM01).

Ingest marks a chunk that reads like instructions to a model (``ingest.injection``); the hit
carries the reason. Here is what answering does with it, by the ``answering.injection``
setting:

- ``quarantine`` (the default): the chunk never enters the prompt (``admit`` drops it);
- ``include-with-warning``: it enters wrapped in a note that it is untrusted data
  (``prompts.registry.untrusted``).

Either way its sentences never lead the shown answer (``Evidence.lead``), a citation of it is
marked, and ``Guard`` hides a generated sentence that repeats it: one that reads like an
instruction itself, one carrying a word that only a flagged chunk holds ("PWNED", a forged
password) and neither the question nor any other retrieved chunk says, or one that rests
only on flagged chunks. Quarantined, the model never saw those words, so saying them is no
answer; included, it draws them from the attacker's text. The whole flagged chunk counts, not
only its instruction: a forged fact sits anywhere in it, and the detector marks only the
instruction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from app.answering.grounding import GroundedAnswer
from app.knowledge.search import Hit
from ingest.injection import detect
from ingest.lexical import tokenize
from prompts.registry import untrusted

Mode = Literal["quarantine", "include-with-warning"]

# why a generated sentence is not shown (the web page translates these)
REPEATS = "repeats a passage flagged as a possible prompt injection"
RESTS_ON_FLAGGED = "rests only on a passage flagged as a possible prompt injection"
WITHHELD = ("The model's answer is not shown: it repeated text flagged as a possible prompt "
            "injection.")


def admit(chunks: Sequence[Hit], numbers: Sequence[int] | None, mode: Mode
          ) -> tuple[list[Hit], list[int]]:
    """The chunks that enter the prompt, with their retrieved numbers: flagged ones dropped
    (quarantine) or wrapped in the untrusted-data note (include-with-warning)."""
    numbered = list(zip(numbers or range(1, len(chunks) + 1), chunks, strict=True))
    if mode == "quarantine":
        numbered = [(n, c) for n, c in numbered if not c.injection]
    else:
        numbered = [(n, replace(c, text=untrusted(c.text)) if c.injection else c)
                    for n, c in numbered]
    return [c for _, c in numbered], [n for n, _ in numbered]


@dataclass(frozen=True)
class Guard:
    """Decides which generated sentences may not be shown because they repeat a flagged
    chunk. ``flagged`` are the chunks' 1-based numbers; ``injected`` per language the terms
    only the flagged chunks hold (not the question, not any other chunk)."""

    flagged: frozenset[int] = frozenset()
    injected: dict[str, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, hits: Sequence[Hit], question: str) -> Guard:
        flagged = frozenset(n for n, h in enumerate(hits, start=1) if h.injection)
        if not flagged:
            return cls()
        trusted_text = [question, *(h.text for h in hits if not h.injection)]
        injected: dict[str, frozenset[str]] = {}
        for language in dict.fromkeys(h.language for h in hits if h.injection):
            said = [h.text for h in hits if h.injection and h.language == language]
            terms = {t for ts in tokenize(said, language) for t in ts}
            trusted = {t for ts in tokenize(trusted_text, language) for t in ts}
            injected[language] = frozenset(terms - trusted)
        return cls(flagged, injected)

    def why_hidden(self, text: str, citations: Sequence[int]) -> str:
        """Why a generated sentence citing ``citations`` may not be shown, or ""."""
        if detect(text):
            return REPEATS
        for language, terms in self.injected.items():
            if terms and set(tokenize([text], language)[0]) & terms:
                return REPEATS
        if citations and all(n in self.flagged for n in citations):
            return RESTS_ON_FLAGGED
        return ""


def withhold(grounded: GroundedAnswer, guard: Guard) -> dict[int, str]:
    """The model's sentences ``guard`` does not let through (index -> why), taken out of the
    shown text of an answer that shows the model's text as generated (``answer@1``), with
    the citations only they made."""
    hidden = {i: why for i, s in enumerate(grounded.sentences)
              if (why := guard.why_hidden(s.text, s.citations))}
    if hidden:
        kept = [s for i, s in enumerate(grounded.sentences) if i not in hidden]
        grounded.text = " ".join(f"{s.text} [{', '.join(map(str, s.citations))}]"
                                 if s.citations else s.text for s in kept) or WITHHELD
        only_hidden = ({n for i in hidden for n in grounded.sentences[i].citations}
                       - {n for s in kept for n in s.citations})
        grounded.citations = [c for c in grounded.citations if c.n not in only_hidden]
    return hidden
