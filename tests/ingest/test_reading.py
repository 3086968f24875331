"""Reading a file once, bounded, through a descriptor that refuses links and non-files."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from ingest.reading import read_file
from ingest.sections import LoaderError


def _reason(path: Path, max_bytes: int | None = None) -> str:
    with pytest.raises(LoaderError) as info:
        read_file(path, max_bytes)
    return str(info.value)


def test_reads_a_regular_file_within_the_limit(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_bytes(b"x" * 100)
    assert read_file(tmp_path / "a.md", 100) == b"x" * 100


def test_a_file_that_grew_past_the_limit_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_bytes(b"x" * 101)
    assert _reason(tmp_path / "a.md", 100).startswith("file grew past the size limit")


def test_a_link_swapped_in_is_not_followed(tmp_path: Path) -> None:
    (tmp_path / "secret").write_text("root:x:0:0")
    os.symlink(tmp_path / "secret", tmp_path / "a.md")
    assert _reason(tmp_path / "a.md") == "symbolic link not followed"


def test_a_fifo_does_not_block_and_a_directory_is_refused(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.md")
    (tmp_path / "dir.md").mkdir()
    outcome: list[str] = []
    reader = threading.Thread(target=lambda: outcome.append(_reason(tmp_path / "pipe.md")),
                              daemon=True)
    reader.start()
    reader.join(timeout=5)
    assert outcome == ["could not read file (not a regular file)"]  # no writer, no hang
    assert _reason(tmp_path / "dir.md") == "could not read file (not a regular file)"
    assert _reason(tmp_path / "gone.md") == "could not read file (No such file or directory)"
