import pytest

from ingest.lexical import LexicalIndex, UnsupportedLanguage


def test_english_stemming_and_stopwords() -> None:
    index = LexicalIndex.build(["Printers jammed in tray two", "The VPN certificate"], "en")
    assert index.search("printer jams", 5)[0][0] == 0
    assert index.search("the and of", 5) == []  # only stop words


def test_dutch_stemming_matches_inflections() -> None:
    index = LexicalIndex.build(["Retourzendingen worden binnen 14 dagen verwerkt",
                                "De klachtenprocedure duurt een week"], "nl")
    assert index.search("retourzending verwerking", 5)[0][0] == 0


def test_unknown_language_is_refused() -> None:
    with pytest.raises(UnsupportedLanguage):
        LexicalIndex.build(["x"], "xx")


def test_a_search_may_leave_out_tokens_found_in_too_many_rows() -> None:
    texts = [f"error NW-VPN-{i:05d} on the gateway" for i in range(5)]
    index = LexicalIndex.build(texts, "en")
    assert index.rows_with("nw") == 5 and index.rows_with("00003") == 1
    assert index.rows_with("unknown") == 0
    everything = index.search("NW-VPN-00003", 5)
    assert len(everything) == 5  # "nw" and "vpn" match every row
    identifying = index.search("NW-VPN-00003", 5, max_rows=1)
    assert [row for row, _ in identifying] == [3]


def test_rare_tokens_are_scored_from_their_rows_alone_with_the_same_result() -> None:
    import random

    rng = random.Random(3)
    words = [f"w{i}" for i in range(60)]
    texts = [" ".join(rng.choice(words) for _ in range(12)) for _ in range(300)]
    index = LexicalIndex.build(texts, "en")
    for query in ("w1", "w2 w3", "w4 w4 w5", "w6 nothing"):
        sparse = index.search(query, 10)
        tokens = [t for t in query.split() if index.rows_with(t)]
        rows, scores = index._retriever.retrieve([tokens], k=10, show_progress=False)
        dense = [(int(r), float(s)) for r, s in zip(rows[0], scores[0], strict=True) if s > 0]
        assert [s for _, s in sparse] == pytest.approx([s for _, s in dense], rel=1e-5)
        assert {r for r, _ in sparse} == {r for r, _ in dense} or len(sparse) == 10
