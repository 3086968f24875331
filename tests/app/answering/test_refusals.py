"""The refusal gate's subject check, with the real MiniLM model (cosines matter here)."""


import pytest

from app.answering.evidence import gather
from app.answering.refusals import knows_compound, missing_subject, names_in
from app.knowledge.search import Hit
from ingest.lexical import LexicalIndex
from models.embedder import EmbedderProtocol, SentenceTransformerEmbedder

RESET = Hit(chunk_id="c1", score=1.0, collection="kb", document="reset.md",
            title="Password reset", heading="Password reset > Service desk", page=None,
            dense_score=0.6, lexical_score=1.0,
            text="The service desk resets a user's password after checking their identity. "
                 "Guests use the Wi-Fi network NWL-Guest, limited to 20 Mbit/s. "
                 "Printers and multifunction devices read the badge at the panel.")
VOCABULARY = LexicalIndex.build([RESET.text], "en")  # the words the collection uses


@pytest.fixture(scope="module")
def minilm() -> EmbedderProtocol:
    return SentenceTransformerEmbedder("all-MiniLM-L6-v2")


def _check(question: str, embedder: EmbedderProtocol) -> str | None:
    def embedders(_setting: str | None) -> EmbedderProtocol:
        return embedder
    return missing_subject(question, gather(question, [RESET], embedders), VOCABULARY.knows,
                           embedders)


@pytest.mark.slow
def test_a_specific_subject_the_documents_lack_refuses(minilm: EmbedderProtocol) -> None:
    assert _check("How do I reset a user's SAP GUI password?", minilm) in {"SAP", "GUI"}
    assert _check("What is the Kubernetes upgrade procedure?", minilm) == "Kubernetes"


@pytest.mark.slow
def test_common_words_and_near_synonyms_do_not_refuse(minilm: EmbedderProtocol) -> None:
    assert _check("Someone needs their password reset quickly", minilm) is None  # common
    assert _check("How fast is the guest WLAN?", minilm) is None  # close to the Wi-Fi line


@pytest.mark.slow
def test_a_name_the_documents_lack_refuses_however_close_its_kind(
        minilm: EmbedderProtocol) -> None:
    # "Salesforce" is rare but close to any sentence about software; a name has no synonym
    assert _check("When does our Salesforce licence need to be renewed?", minilm) \
        == "Salesforce"


@pytest.mark.slow
def test_a_name_beside_a_question_the_evidence_covers_does_not_refuse(
        minilm: EmbedderProtocol) -> None:
    assert _check("Customer Jansen asks: does the service desk reset a user's password?",
                  minilm) is None


RETOUR = Hit(chunk_id="n1", score=1.0, collection="kb-nl", document="retour.md",
             title="Retourbeleid", heading="Retourbeleid > Termijnen", page=None,
             dense_score=0.6, lexical_score=1.0, language="nl",
             text="Een retourlabel is 30 dagen geldig. Een pakket blijft zeven dagen op het "
                  "afhaalpunt liggen voordat het terug naar de afzender gaat. De kluis van "
                  "het pakketpunt opent met een code.")
VOCABULARY_NL = LexicalIndex.build([RETOUR.text], "nl")


def _check_nl(question: str, embedder: EmbedderProtocol) -> str | None:
    def embedders(_setting: str | None) -> EmbedderProtocol:
        return embedder
    return missing_subject(question, gather(question, [RETOUR], embedders),
                           VOCABULARY_NL.knows, embedders)


@pytest.mark.slow
def test_dutch_refuses_a_rare_word_the_documents_lack(minilm: EmbedderProtocol) -> None:
    assert _check_nl("Hoeveel vakantiedagen krijgt een medewerker per jaar?", minilm) \
        == "vakantiedagen"
    # rarer than English's bar but covered: a verb form, a compound of known parts
    assert _check_nl("Hoe lang blijft een pakket liggen voordat het teruggaat?", minilm) is None
    assert _check_nl("Hoe opent de pakketkluis?", minilm) is None


def test_names_are_capitalised_inside_the_question_or_acronyms() -> None:
    assert names_in("When does our Salesforce licence expire? Ask SAP.") == ["Salesforce"]
    assert names_in("Someone lost a phone. Who helps?") == []
    assert names_in("What is Het Logboek's retention: Forever?") == ["Het", "Logboek"]


def test_a_compound_is_known_when_its_parts_are() -> None:
    assert knows_compound("pakketkluis", VOCABULARY_NL.knows)
    assert knows_compound("retourlabelstermijn", lambda w: w in {"retourlabel",
                                                                     "termijn"})
    assert not knows_compound("vakantiedagen", VOCABULARY_NL.knows)
