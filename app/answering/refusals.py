"""When the product says "I don't know" instead of asking the model.

Three checks, each for a way a small model is misled by evidence that sounds close:

- **Nothing relevant** (``min_dense_score``): the best chunk is far from the question.
- **A code the documents don't have**: asked about ``NWL-VPN-555`` the model happily
  describes ``NWL-VPN-809``.
- **A subject the documents don't have**: the question names a specific word (rare in the
  language: ``Salesforce``, ``Kubernetes``, ``forklifts``) that no searched collection
  contains, and no evidence sentence is even close to it in meaning. "How do I reset a user's
  SAP GUI password?" retrieves the password-reset playbook with a good score; the playbook is
  not about SAP. A common word the collection happens not to use ("someone", "quickly") says
  nothing, and a rare word that means what the evidence says ("wifi" for "Wi-Fi", "copier"
  beside "printer") is close to a sentence, so neither refuses.

Word rarity comes from ``wordfreq`` (Zipf frequency: 3 is once per million words); the
thresholds were read off the demo sets (README, Figures: refusals).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
from wordfreq import zipf_frequency

from app.answering.evidence import Evidence
from app.answering.grounding import Embedders
from app.knowledge.search import Hit
from ingest.lexical import tokenize

# per language of the searched collections: a Dutch collection refuses in Dutch
REFUSALS = {
    "en": {"none": "I don't know: the documents in {names} don't cover this question.",
           "missing": "I don't know: the documents in {names} don't mention {what}."},
    "nl": {"none": "Dat weet ik niet: de documenten in {names} behandelen deze vraag niet.",
           "missing": "Dat weet ik niet: de documenten in {names} noemen {what} niet."},
}


def refusal(kind: str, languages: list[str], names: str, what: str = "") -> str:
    """The refusal text in the collections' language (English when they differ)."""
    language = languages[0] if len(set(languages)) == 1 and languages[0] in REFUSALS else "en"
    return REFUSALS[language][kind].format(names=names, what=what)

# per language: rarer than this Zipf frequency (4: ten per million words) names a subject.
# Only English is calibrated: Dutch compounds and verb forms ("teruggaat", "uitpakken") are
# rare as whole words and missing from a stemmed vocabulary while the documents do cover
# them (3 of 10 answerable Dutch demo questions were refused), so other languages skip it.
RARE_ZIPF = {"en": 4.0}
CLOSE_COSINE = 0.34  # an evidence sentence this close in meaning to the word covers it

# error codes, policy ids, ticket templates: NWL-VPN-809, P-203, SEC-07, KS-12
_CODE = re.compile(r"\b[A-Za-z]+(?:-[A-Za-z0-9]+)*-\d+[A-Za-z0-9]*\b")
_WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")
_POSSESSIVE = re.compile(r"['’]s$")


def missing_code(question: str, hits: list[Hit]) -> str | None:
    """A code the question names that none of the retrieved chunks contains."""
    haystack = " ".join(f"{h.title} {h.heading} {h.text}" for h in hits).lower()
    return next((c for c in _CODE.findall(question) if c.lower() not in haystack), None)


def missing_subject(question: str, evidence: Evidence, known: Callable[[str], bool],
                    embedders: Embedders) -> str | None:
    """A rare word of the question that no searched collection has and no evidence sentence
    comes close to; ``known`` says whether a word is in some collection's vocabulary. Words
    are read in the first chunk's language and compared in each chunk's embedding space."""
    if not evidence.hits or evidence.hits[0].language not in RARE_ZIPF:
        return None
    language = evidence.hits[0].language
    unknown = []
    for word in dict.fromkeys(_POSSESSIVE.sub("", w) for w in _WORD.findall(question)):
        if tokenize([word], language)[0] and not known(word) \
                and zipf_frequency(word, language) < RARE_ZIPF[language]:
            unknown.append(word)
    if not unknown:
        return None
    closest = np.full(len(unknown), -1.0)
    by_model: dict[str | None, list[int]] = {}
    for i, hit in enumerate(evidence.hits):
        by_model.setdefault(hit.embedder, []).append(i)
    for setting, members in by_model.items():
        words = embedders(setting).embed(unknown)
        for i in members:
            if len(evidence.vectors[i]):
                closest = np.maximum(closest, np.max(evidence.vectors[i] @ words.T, axis=0))
    far = [w for w, c in zip(unknown, closest, strict=True) if c < CLOSE_COSINE]
    return far[0] if far else None
