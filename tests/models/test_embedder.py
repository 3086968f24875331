"""The real MiniLM embedder: bfloat16 batches land in the float32 vector space, queries stay
float32, and the CPU probe fails safe."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from pydantic import ValidationError

from app.core.settings import Settings
from models import embedder as embedder_module
from models.embedder import BULK_MIN, SentenceTransformerEmbedder, native_bfloat16

pytestmark = pytest.mark.slow

CHUNKS = [
    f"Kompas ticketing — error KMP-{400 + i}\nThe client shows KMP-{400 + i} when "
    f"{cause}. Ask the service desk to reset the account, then sign in again. "
    "Log a ticket in Kompas when the steps do not solve the problem."
    for i, cause in enumerate([
        "the device certificate expired", "the cached password is stale", "the disk is full",
        "a firewall port is blocked", "the time zone is wrong", "the licence was revoked",
        "the client is outdated", "the service account is locked", "DNS times out",
        "the user profile is duplicated", "the configuration file is corrupt",
        "a group membership is missing",
    ])
]


@pytest.fixture(scope="module")
def float32() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder("all-MiniLM-L6-v2", precision="float32")


@pytest.fixture(scope="module")
def bfloat16() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder("all-MiniLM-L6-v2", precision="bfloat16")


def test_bfloat16_batches_share_the_float32_vector_space(
        float32: SentenceTransformerEmbedder, bfloat16: SentenceTransformerEmbedder) -> None:
    assert len(CHUNKS) >= BULK_MIN
    exact, fast = float32.embed(CHUNKS), bfloat16.embed(CHUNKS)
    assert fast.dtype == np.float32 and fast.shape == exact.shape == (len(CHUNKS), 384)
    assert not np.array_equal(fast, exact)  # bfloat16 really ran
    np.testing.assert_allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-5)
    assert (fast * exact).sum(axis=1).min() > 0.999
    # the neighbour of every chunk is the same under both precisions
    assert ((fast @ exact.T).argmax(axis=1) == np.arange(len(CHUNKS))).all()


def test_a_query_is_embedded_in_float32(
        float32: SentenceTransformerEmbedder, bfloat16: SentenceTransformerEmbedder) -> None:
    query = ["What does KMP-403 mean?"]
    np.testing.assert_array_equal(bfloat16.embed(query), float32.embed(query))


def test_precision_setting_decides_the_bulk_path(float32: SentenceTransformerEmbedder,
                                                 bfloat16: SentenceTransformerEmbedder) -> None:
    assert float32.bulk_precision == "float32"
    assert bfloat16.bulk_precision == "bfloat16"
    auto = SentenceTransformerEmbedder("all-MiniLM-L6-v2")
    assert auto.bulk_precision == ("bfloat16" if native_bfloat16() else "float32")
    assert Settings().embedding_precision == "auto"
    with pytest.raises(ValidationError):
        Settings(embedding_precision="float16")


def test_cpu_probe_says_no_when_torch_lacks_it(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("_is_amx_tile_supported", "_is_avx512_bf16_supported"):
        monkeypatch.delattr(torch.cpu, name, raising=False)
    assert native_bfloat16() is False
    auto = embedder_module.SentenceTransformerEmbedder("all-MiniLM-L6-v2")
    assert auto.bulk_precision == "float32"
