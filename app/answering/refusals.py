"""When the product says "I don't know" instead of asking the model.

Four checks, each for a way a small model is misled by evidence that sounds close:

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

- **A name the documents don't have**: a capitalised word inside the question
  (``Salesforce``) that no searched collection contains, however common
  the word, when the best evidence sentence holds less than half of the question's terms. A
  name has no synonym a sentence could use instead: the sentences about software licences are
  as close to "Salesforce" (cosine 0.35) as the printer sentences are to "copier" (0.34), so
  closeness says nothing here. The half rule keeps a question that merely mentions a name
  ("Customer Jansen asks how long a return label stays valid") answerable when the evidence
  covers the rest of it; a name is never judged as a rare word.

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
# Dutch verb forms and compounds ("teruggaat", "uitpakken", "Terschelling": 3.56 to 3.61) are
# rare as whole words and missing from a stemmed vocabulary while the documents do cover
# them, so Dutch asks for a rarer word (2.89 is "vakantiedagen") and reads a compound whose
# parts the documents use as known. Other languages are not calibrated and skip the check.
RARE_ZIPF = {"en": 4.0, "nl": 3.0}
COMPOUNDING = {"nl", "de"}  # languages that write compounds as one word
# the shipped embedding model (all-MiniLM-L6-v2) is English: for a Dutch word its cosines are
# noise (0.23 to 0.46 for words the documents cover and words they don't alike)
CLOSENESS = {"en"}
CLOSE_COSINE = 0.34  # an evidence sentence this close in meaning to the word covers it

# error codes, policy ids, ticket templates: NWL-VPN-809, P-203, SEC-07, KS-12
_CODE = re.compile(r"\b[A-Za-z]+(?:-[A-Za-z0-9]+)*-\d+[A-Za-z0-9]*\b")
_WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")
_POSSESSIVE = re.compile(r"['’]s$")
_SENTENCE_START = re.compile(r"(?:^|[.!?:;]\s+|\n\s*)$")


def missing_code(question: str, hits: list[Hit]) -> str | None:
    """A code the question names that none of the retrieved chunks contains."""
    haystack = " ".join(f"{h.title} {h.heading} {h.text}" for h in hits).lower()
    return next((c for c in _CODE.findall(question) if c.lower() not in haystack), None)


def names_in(question: str) -> list[str]:
    """Capitalised words that don't start a sentence: "our Salesforce licence". Acronyms are
    words, not names: they have synonyms ("WLAN" for the Wi-Fi)."""
    found = []
    for match in _WORD.finditer(question):
        word = _POSSESSIVE.sub("", match.group())
        if word[0].isupper() and not word.isupper() \
                and not _SENTENCE_START.search(question[:match.start()]):
            found.append(word)
    return found


def knows_compound(word: str, known: Callable[[str], bool]) -> bool:
    """A compound whose two parts the documents use ("pakket" + "kluis"), allowing the
    linking "s" or "e(n)" of Dutch and German; parts are at least 4 letters."""
    lower = word.lower()
    for cut in range(4, len(lower) - 3):
        left, right = lower[:cut], lower[cut:]
        lefts = [left] + [left[:-len(link)] for link in ("s", "en", "e")
                          if left.endswith(link) and len(left) - len(link) >= 4]
        if known(right) and any(known(candidate) for candidate in lefts):
            return True
    return False


def _unknown(word: str, language: str, known: Callable[[str], bool]) -> bool:
    if not tokenize([word], language)[0] or known(word):
        return False
    return not (language in COMPOUNDING and knows_compound(word, known))


def missing_subject(question: str, evidence: Evidence, known: Callable[[str], bool],
                    embedders: Embedders) -> str | None:
    """A name (see the module doc) or a rare word of the question that no searched collection
    has and no evidence sentence comes close to; ``known`` says whether a word is in some
    collection's vocabulary. Words are read in the first chunk's language and compared in
    each chunk's embedding space."""
    if not evidence.hits:
        return None
    language = evidence.hits[0].language
    if evidence.ranked and len(evidence.ranked[0].terms) * 2 < len(evidence.terms):
        for name in names_in(question):
            if _unknown(name, language, known):
                return name  # the evidence covers neither the name nor most of the rest
    if language not in RARE_ZIPF:
        return None
    names = set(names_in(question))  # a name is judged by the rule above, never as a word
    unknown = [word for word in dict.fromkeys(_POSSESSIVE.sub("", w)
                                              for w in _WORD.findall(question))
               if word not in names and _unknown(word, language, known)
               and zipf_frequency(word, language) < RARE_ZIPF[language]]
    if not unknown or language not in CLOSENESS:
        return unknown[0] if unknown else None
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
