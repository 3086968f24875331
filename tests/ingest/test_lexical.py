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
