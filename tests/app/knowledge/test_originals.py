"""The original document behind a citation: served only if indexed, readable and inside its
folder; everything else is the same 404."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.errors import NotFound
from app.wiring import Services


def test_an_indexed_document_is_found_inside_its_folder(indexed: Services, kb: Path) -> None:
    found = indexed.originals.locate("kb", "printing/printers.md", allowed={"kb"})
    assert found.path == (kb / "printing" / "printers.md").resolve()
    assert found.inline and found.media_type.startswith("text/plain")


@pytest.mark.parametrize(("collection", "document", "allowed"), [
    ("kb", "printing/printers.md", set()),           # not readable by the caller
    ("kb", "nope.md", {"kb"}),                       # not indexed
    ("kb", "../kb/vpn.md", {"kb"}),                  # not a stored path
    ("other", "vpn.md", {"other"}),                  # no such collection
])
def test_anything_else_is_the_same_404(indexed: Services, collection: str, document: str,
                                       allowed: set[str]) -> None:
    with pytest.raises(NotFound) as caught:
        indexed.originals.locate(collection, document, allowed=allowed)
    assert caught.value.code == "document_not_found"


def test_a_symlink_swapped_in_after_indexing_is_refused(indexed: Services, kb: Path,
                                                        tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("the admin password")
    target = kb / "mail.txt"
    target.unlink()
    target.symlink_to(secret)
    with pytest.raises(NotFound):
        indexed.originals.locate("kb", "mail.txt", allowed={"kb"})
