import itertools

from ingest.chunking import chunk_sections, embedding_text
from ingest.sections import Section


def _words(n: int, prefix: str = "w") -> str:
    return " ".join(f"{prefix}{i}." for i in range(n))


def test_ids_are_stable_for_unchanged_content() -> None:
    sections = [Section("Alpha beta gamma.", ("Intro",)), Section("Delta epsilon.", page=2)]
    first = chunk_sections(sections, collection="c", path="a.md")
    second = chunk_sections(sections, collection="c", path="a.md")
    assert [c.id for c in first] == [c.id for c in second]


def test_ids_change_with_content_path_or_collection() -> None:
    base = chunk_sections([Section("Alpha beta.")], collection="c", path="a.md")[0].id
    assert chunk_sections([Section("Alpha beta!")], collection="c", path="a.md")[0].id != base
    assert chunk_sections([Section("Alpha beta.")], collection="c", path="b.md")[0].id != base
    assert chunk_sections([Section("Alpha beta.")], collection="d", path="a.md")[0].id != base


def test_chunks_never_cross_sections_and_keep_provenance() -> None:
    sections = [Section("First section text.", ("A",), 1), Section("Second.", ("A", "B"), 2)]
    chunks = chunk_sections(sections, collection="c", path="x.pdf")
    assert [(c.text, c.heading, c.page) for c in chunks] == [
        ("First section text.", "A", 1), ("Second.", "A > B", 2)]


def test_long_section_is_split_with_overlap() -> None:
    paragraphs = "\n\n".join(_words(40, f"p{i}_") for i in range(6))  # 240 words
    chunks = chunk_sections([Section(paragraphs)], collection="c", path="x.md",
                            chunk_words=100, overlap_words=40)
    assert len(chunks) >= 3
    assert all(len(c.text.split()) <= 100 for c in chunks)
    for prev, nxt in itertools.pairwise(chunks):
        assert prev.text.split("\n\n")[-1] == nxt.text.split("\n\n")[0]  # shared paragraph


def test_giant_paragraph_is_cut_to_size() -> None:
    chunks = chunk_sections([Section(" ".join(["word"] * 1000))], collection="c", path="x.txt",
                            chunk_words=120, overlap_words=20)
    assert all(len(c.text.split()) <= 120 for c in chunks)
    assert sum(len(c.text.split()) for c in chunks) >= 1000


def test_embedding_text_carries_title_and_heading() -> None:
    assert embedding_text("VPN", "Errors", "body") == "VPN — Errors\nbody"
    assert embedding_text("", "", "body") == "body"
