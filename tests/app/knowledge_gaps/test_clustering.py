"""Questions into topics: with the real MiniLM embedder, differently worded questions about
one thing land in one topic and questions about other things do not; and the edge cases of
the clustering itself (nothing, one question, a zero vector) on hand-made vectors."""

from __future__ import annotations

import numpy as np
import pytest

from app.core.settings import GapSettings
from app.knowledge_gaps.clustering import cluster
from models.embedder import EmbedderProtocol, SentenceTransformerEmbedder

VPN = ["How do I renew the VPN certificate on my laptop?",
       "My VPN certificate has expired, how can I get a new one?",
       "VPN says the device certificate is out of date",
       "Renewing an expired VPN certificate"]
PRINTER = ["The printer on the third floor keeps jamming in tray 2",
           "Paper jam in the printer, what should I do?",
           "How do I clear a paper jam from the office printer?"]
ALONE = ["What is the mileage allowance for business travel by car?",
         "Who approves holiday requests for the support team?"]


@pytest.fixture(scope="module")
def minilm() -> EmbedderProtocol:
    return SentenceTransformerEmbedder("all-MiniLM-L6-v2")


@pytest.mark.slow
def test_similar_questions_share_a_topic_and_unrelated_ones_do_not(
        minilm: EmbedderProtocol) -> None:
    questions = VPN[:2] + PRINTER[:1] + ALONE[:1] + VPN[2:] + PRINTER[1:] + ALONE[1:]
    vectors = np.asarray(minilm.embed(questions), dtype=np.float32)
    topics = [{questions[i] for i in c.members}
              for c in cluster(vectors, distance=GapSettings().distance)]
    assert topics[:2] == [set(VPN), set(PRINTER)]  # largest first
    assert sorted(topics[2:], key=sorted) == [{ALONE[0]}, {ALONE[1]}]


@pytest.mark.slow
def test_a_tighter_distance_splits_a_topic(minilm: EmbedderProtocol) -> None:
    vectors = np.asarray(minilm.embed(VPN), dtype=np.float32)
    assert len(cluster(vectors, distance=GapSettings().distance)) == 1
    assert len(cluster(vectors, distance=0.01)) == len(VPN)


def test_the_question_nearest_the_centre_comes_first() -> None:
    vectors = np.array([[1, 0.3, 0], [1, 0, 0], [1, -0.3, 0], [0, 0, 1]], dtype=np.float32)
    found = cluster(vectors, distance=0.3)
    assert [c.members for c in found] == [(1, 0, 2), (3,)]


def test_nothing_one_question_and_a_zero_vector() -> None:
    assert cluster(np.zeros((0, 4), dtype=np.float32), distance=0.4) == []
    assert [c.members for c in cluster(np.ones((1, 4), dtype=np.float32), distance=0.4)] == [
        (0,)]
    vectors = np.array([[1, 0], [0, 0], [1, 0.01]], dtype=np.float32)
    assert [set(c.members) for c in cluster(vectors, distance=0.4)] == [{0, 2}, {1}]
    assert [c.members for c in cluster(np.zeros((2, 2), dtype=np.float32),
                                       distance=0.4)] == [(0,), (1,)]
