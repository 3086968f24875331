import itertools

from ingest.chunking import CHARS_PER_WORD, chunk_sections, embedding_text, iter_chunks
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


def test_a_text_without_break_points_is_cut_at_the_chunk_budget() -> None:
    blob = "x" * 3_000_000  # one 3 MB 'word': no space, no line, no sentence end
    chunks = chunk_sections([Section(blob)], collection="c", path="blob.txt", chunk_words=160)
    budget = 160 * CHARS_PER_WORD
    assert max(len(c.text) for c in chunks) <= budget
    assert "".join(c.text for c in chunks) == blob  # cut, not lost or repeated
    assert len(chunks) == -(-len(blob) // budget)


def test_long_words_are_bounded_in_characters_not_only_in_words() -> None:
    text = " ".join(f"{i:04d}" + "y" * 40 for i in range(400))  # 45 chars a word
    chunks = chunk_sections([Section(text)], collection="c", path="x.txt", chunk_words=100,
                            overlap_words=10)
    assert all(len(c.text) <= 100 * CHARS_PER_WORD for c in chunks)
    assert all(len(c.text.split()) <= 100 for c in chunks)
    assert {w for c in chunks for w in c.text.split()} == set(text.split())


def test_paragraphs_of_long_words_pack_within_the_budget_with_overlap() -> None:
    paragraphs = "\n\n".join("z" * 500 for _ in range(20))  # short in words, long in chars
    chunks = chunk_sections([Section(paragraphs)], collection="c", path="x.md",
                            chunk_words=100, overlap_words=20)
    assert len(chunks) > 1 and all(len(c.text) <= 100 * CHARS_PER_WORD for c in chunks)


def test_chunks_are_made_lazily_so_a_limit_stops_the_work() -> None:
    sections = [Section(_words(100, f"s{i}_"), page=i) for i in range(1000)]
    taken = list(itertools.islice(iter_chunks(sections, collection="c", path="x.pdf"), 3))
    assert [c.ord for c in taken] == [0, 1, 2]
    assert [c.page for c in taken] == [0, 1, 2]


def test_a_lone_surrogate_does_not_break_the_chunk_id() -> None:
    (chunk,) = chunk_sections([Section("broken \udcff text")], collection="c", path="a.md")
    assert len(chunk.id) == 32
