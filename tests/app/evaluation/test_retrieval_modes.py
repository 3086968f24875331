"""Search modes: each switches off the other rankings, the hybrid keeps the settings as given."""

from __future__ import annotations

import pytest

from app.core.settings import RetrievalSettings
from app.evaluation.retrieval_modes import settings_for_mode


def test_modes_switch_off_one_ranking() -> None:
    base = RetrievalSettings.model_validate({"rrf_k": 10, "lexical_weight": 1.5})
    dense, bm25 = settings_for_mode(base, "dense"), settings_for_mode(base, "bm25")
    assert (dense.lexical_weight, dense.identifier_weight) == (0, 0)
    assert (bm25.dense_weight, bm25.identifier_weight, bm25.lexical_weight) == (0, 0, 1)
    assert settings_for_mode(base, "hybrid") == base
    with pytest.raises(ValueError):
        settings_for_mode(base, "sparse")
