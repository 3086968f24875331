from pathlib import Path

from sqlalchemy import select

from app.knowledge.tables import Chunk, Collection
from app.wiring import Services
from ingest.snapshots import current_snapshot_id


def _docs(services: Services) -> set[str]:
    return {h.document for h in services.search.search("error limit printer mailbox vpn", [],
                                                       allowed={"kb"}, k=50).hits}


def test_sync_indexes_then_skips_unchanged(services: Services, kb: Path) -> None:
    services.collections.upsert("kb", kb, "en")
    first = services.indexer.sync("kb")
    assert (first.added, first.unchanged, first.errors) == (3, 0, [])
    assert first.snapshot_rebuilt and first.chunks_total > 0
    again = services.indexer.sync("kb")
    assert (again.added, again.changed, again.unchanged, again.removed) == (0, 0, 3, 0)
    assert not again.snapshot_rebuilt and again.snapshot_id == first.snapshot_id
    assert again.chunks_embedded == 0


def test_changed_and_deleted_files(indexed: Services, kb: Path) -> None:
    (kb / "mail.txt").write_text("Mail limits\n\nThe mailbox size limit is 75 GB.\n")
    (kb / "printing" / "printers.md").unlink()
    report = indexed.indexer.sync("kb")
    assert (report.changed, report.removed, report.unchanged) == (1, 1, 1)
    assert _docs(indexed) == {"vpn.md", "mail.txt"}
    hits = indexed.search.search("mailbox size limit", ["kb"], allowed={"kb"}, k=3).hits
    assert "75 GB" in hits[0].text


def test_deleted_document_is_never_returned_even_before_the_new_snapshot(
        indexed: Services, kb: Path) -> None:
    # rows deleted in SQL while the old snapshot is still current (a crash between the two)
    with indexed.sessions() as session:
        coll = session.scalars(select(Collection)).one()
        for chunk in session.scalars(select(Chunk).where(Chunk.collection_id == coll.id)):
            if "P-203" in chunk.text:
                session.delete(chunk)
        session.commit()
    hits = indexed.search.search("printer error P-203 paper jam", ["kb"], allowed={"kb"}, k=10)
    assert all("P-203" not in h.text for h in hits.hits)


def test_bad_files_are_skipped_with_reasons_and_batch_continues(indexed: Services,
                                                                 kb: Path) -> None:
    (kb / "junk.md").write_bytes(b"\x00\x01\x02binary\x00junk")
    (kb / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj <<")
    (kb / "photo.jpg").write_bytes(b"\xff\xd8\xff")
    (kb / "new.md").write_text("# New\n\nThe guest wifi password rotates every Monday.\n")
    report = indexed.indexer.sync("kb")
    reasons = {e["path"]: e["reason"] for e in report.errors}
    assert set(reasons) == {"junk.md", "broken.pdf", "photo.jpg"}
    assert "binary" in reasons["junk.md"]
    assert report.added == 1
    assert "new.md" in _docs(indexed) | {h.document for h in indexed.search.search(
        "guest wifi password", ["kb"], allowed={"kb"}).hits}


def test_interrupted_sync_is_finished_by_the_next_run(indexed: Services, kb: Path) -> None:
    old = current_snapshot_id(indexed.settings.index_dir, "kb")
    (kb / "extra.txt").write_text("Extra\n\nBadge readers are rebooted at 06:00.\n")
    # simulate a kill after SQL rows were committed but before the snapshot switch
    with indexed.sessions() as session:
        coll = session.scalars(select(Collection)).one()
        coll.content_version += 1
        session.commit()
    assert current_snapshot_id(indexed.settings.index_dir, "kb") == old  # old still serves
    report = indexed.indexer.sync("kb")
    assert report.snapshot_rebuilt and report.snapshot_id != old


def test_other_embedding_model_reembeds_everything(indexed: Services) -> None:
    with indexed.sessions() as session:
        coll = session.scalars(select(Collection)).one()
        coll.embedding_model = "some-older-model"
        session.commit()
    report = indexed.indexer.sync("kb")
    assert report.changed == 3 and report.chunks_embedded > 0 and report.snapshot_rebuilt
