"""A re-index of a folder with hostile files beside good ones: each hostile file is skipped
with its reason or indexed within its limits, alone and all together, and the good files,
the deletions and the rest of the batch are applied whatever the hostile files do."""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from app.core.errors import InvalidInput
from app.core.settings import IngestSettings, RetrievalSettings, Settings
from app.knowledge.indexing import SyncReport
from app.knowledge.tables import Chunk, Document
from app.wiring import Services
from ingest.chunking import CHARS_PER_WORD
from ingest.loaders import DocumentLoader
from tests.app.knowledge.test_jobs import finished
from tests.ingest.hostile import (
    many_pages_pdf,
    no_space_word,
    non_utf8_name,
    random_high_bytes,
    too_much_text,
    zip_bomb_docx,
)

Writer = Callable[[Path], str]  # writes one hostile file into the folder, returns its name
CHUNK_BUDGET = 160 * CHARS_PER_WORD
GOOD = {"vpn.md": "NWL-VPN-809 certificate", "mail.txt": "mailbox size limit",
        "printing/printers.md": "printer error P-203 paper jam"}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", retrieval=RetrievalSettings(min_dense_score=0.2),
                    ingest=IngestSettings(max_chars_per_file=100_000, max_chunks_per_file=40,
                                          max_pdf_pages=3))


def _hits(services: Services, query: str) -> list[str]:
    """Documents of the best chunks for ``query``, best first."""
    return [h.document for h in services.search.search(query, ["kb"], allowed={"kb"}, k=10).hits]


def _searchable(services: Services, good: dict[str, str]) -> bool:
    return all(_hits(services, query)[0] == path for path, query in good.items())


def _chunks(services: Services, path: str) -> list[str]:
    with services.sessions() as session:
        return list(session.scalars(select(Chunk.text).join(Document).where(
            Document.path == path).order_by(Chunk.ord)))


def _reasons(entries: list[dict[str, str]]) -> dict[str, str]:
    return {e["path"]: e["reason"] for e in entries}


def _bomb(kb: Path) -> str:
    zip_bomb_docx(kb / "bomb.docx")
    return "bomb.docx"


def _noise(kb: Path) -> str:
    random_high_bytes(kb / "noise.md")
    return "noise.md"


def _blob(kb: Path) -> str:
    no_space_word(kb / "blob.txt", megabytes=3)
    return "blob.txt"


def _pages(kb: Path) -> str:
    many_pages_pdf(kb / "manual.pdf", pages=6)
    return "manual.pdf"


def _long(kb: Path) -> str:
    too_much_text(kb / "long.txt", paragraphs=5000)
    return "long.txt"


def _name(kb: Path) -> str:
    non_utf8_name(kb, "# Cafe notes\n\nThe espresso machine descales every Friday.\n")
    return "caf%E9-notes.md"


SKIPPED = {_bomb: "DOCX would inflate to 1,154 MB, past the limit of 200 MB",
           _noise: "binary content, not text"}
PARTLY = {_blob: ["text beyond the first 100,000 characters left out",
                  "chunks beyond the first 40 left out"],
          _pages: ["only the first 3 of 6 pages indexed"],
          _long: ["text beyond the first 100,000 characters left out",
                  "chunks beyond the first 40 left out"]}


def _check(services: Services, report: SyncReport, writers: list[Writer],
           names: list[str], good: dict[str, str] = GOOD) -> None:
    errors, warnings = _reasons(report.errors), report.warnings
    for write, name in zip(writers, names, strict=True):
        if write in SKIPPED:
            assert errors[name] == SKIPPED[write]
            assert _chunks(services, name) == []
        elif write in PARTLY:
            assert name not in errors
            assert [w["reason"] for w in warnings if w["path"] == name] == [
                f"indexed in part: {note}" for note in PARTLY[write]]
            chunks = _chunks(services, name)
            assert 0 < len(chunks) <= 40 and max(map(len, chunks)) <= CHUNK_BUDGET
        else:
            assert name not in errors and _hits(services, "espresso descales")[0] == name
    assert set(errors) <= set(names)
    assert _searchable(services, good)


@pytest.mark.parametrize("write", [_bomb, _noise, _blob, _pages, _long, _name],
                         ids=lambda w: w.__name__.strip("_"))
def test_each_hostile_file_beside_good_ones(services: Services, kb: Path,
                                            write: Writer) -> None:
    name = write(kb)
    services.collections.upsert("kb", kb, "en")
    report = services.indexer.sync("kb")
    _check(services, report, [write], [name])
    assert report.added == 4 - (write in SKIPPED)


def test_all_hostile_files_together_with_a_deleted_playbook(indexed: Services, kb: Path) -> None:
    assert "printing/printers.md" in _hits(indexed, GOOD["printing/printers.md"])
    (kb / "printing" / "printers.md").unlink()
    writers: list[Writer] = [_bomb, _noise, _blob, _pages, _long, _name]
    names = [write(kb) for write in writers]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    report = indexed.indexer.sync("kb")
    assert time.monotonic() - started < 30
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak) / 1024
    assert grown_mb < 300  # the bomb was never inflated here (1.1 GB would show)
    assert report.removed == 1 and "printing/printers.md" not in _hits(
        indexed, GOOD["printing/printers.md"])
    _check(indexed, report, writers, names,
           good={k: v for k, v in GOOD.items() if k != "printing/printers.md"})


def test_a_name_that_is_not_utf8_beside_a_deleted_playbook(indexed: Services, kb: Path) -> None:
    (kb / "printing" / "printers.md").unlink()
    _name(kb)
    report = indexed.indexer.sync("kb")
    assert (report.added, report.removed, report.errors) == (1, 1, [])
    assert "printing/printers.md" not in _hits(indexed, "printer error P-203 paper jam")
    assert _hits(indexed, "espresso descales")[0] == "caf%E9-notes.md"
    found = indexed.originals.locate("kb", "caf%E9-notes.md", allowed={"kb"})
    assert found.path.read_text().startswith("# Cafe notes")
    again = indexed.indexer.sync("kb")  # stable: the display name is the document's identity
    assert (again.unchanged, again.added, again.removed) == (3, 0, 0)


def test_a_bug_on_one_file_costs_that_file_not_the_reindex(
        indexed: Services, kb: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (kb / "printing" / "printers.md").unlink()
    (kb / "vpn.md").write_text("# VPN\n\nNWL-VPN-809 now means the token expired.\n")
    (kb / "wifi.md").write_text("# Wifi\n\nThe guest wifi password rotates every Monday.\n")
    load = DocumentLoader.load

    def broken(self: DocumentLoader, path: Path, data: bytes | None = None) -> object:
        if path.name == "vpn.md":
            raise UnicodeEncodeError("utf-8", "\udcff", 0, 1, "surrogates not allowed")
        return load(self, path, data)

    monkeypatch.setattr(DocumentLoader, "load", broken)
    report = indexed.indexer.sync("kb")
    assert _reasons(report.errors) == {
        "vpn.md": "could not be indexed (UnicodeEncodeError); see the server log"}
    assert (report.added, report.removed) == (1, 2)  # the deletion and the unparsable vpn.md
    assert _hits(indexed, "guest wifi password")[0] == "wifi.md"
    assert "printing/printers.md" not in _hits(indexed, GOOD["printing/printers.md"])


def test_a_batch_that_will_not_store_loses_only_the_file_at_fault(
        indexed: Services, kb: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (kb / "mail.txt").write_text("Mail limits\n\nPOISON: the mailbox limit is now 75 GB.\n")
    (kb / "wifi.md").write_text("# Wifi\n\nThe guest wifi password rotates every Monday.\n")
    embedder = indexed.embedders.get(None)
    embed = embedder.embed

    def poisoned(texts: list[str]) -> object:
        if any("POISON" in t for t in texts):
            raise RuntimeError("embedder crashed")
        return embed(texts)

    monkeypatch.setattr(embedder, "embed", poisoned)
    report = indexed.indexer.sync("kb")
    assert _reasons(report.errors) == {
        "mail.txt": "could not be stored (RuntimeError); see the server log"}
    assert (report.added, report.changed) == (1, 0)
    assert _hits(indexed, "guest wifi password")[0] == "wifi.md"
    assert any("50 GB" in text for text in _chunks(indexed, "mail.txt"))  # the old version


def test_the_job_says_which_files_failed_and_which_were_cut(indexed: Services, kb: Path) -> None:
    names = [_bomb(kb), _pages(kb)]
    job = finished(indexed, indexed.jobs.start_reindex("kb", actor="admin").id)
    assert job.status == "succeeded" and job.result is not None
    assert [(e.path, e.reason) for e in job.errors] == [(names[0], SKIPPED[_bomb])]
    assert [(w.path, w.reason) for w in job.result.warnings] == [
        (names[1], "indexed in part: only the first 3 of 6 pages indexed")]
    audit = indexed.audit.latest("reindex_finished")
    assert audit is not None and audit["details"]["warnings"] == [
        {"path": names[1], "reason": "indexed in part: only the first 3 of 6 pages indexed"}]


def test_a_collection_folder_whose_path_is_not_utf8_is_refused(services: Services,
                                                               tmp_path: Path) -> None:
    folder = Path(os.fsdecode(os.fsencode(tmp_path) + b"/share-\xff"))
    folder.mkdir()
    with pytest.raises(InvalidInput, match="not valid UTF-8"):
        services.collections.upsert("kb", folder, "en")
    assert "kb" not in services.collections.names()
