"""The refusal gate's subject check, with the real MiniLM model (cosines matter here)."""


import pytest

from app.answering.evidence import gather
from app.answering.refusals import missing_subject
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
