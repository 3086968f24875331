"""DocumentLoader: dispatch by suffix and the guarantee that every failure is a safe LoaderError."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ingest.loaders import SUPPORTED_SUFFIXES, DocumentLoader, LoaderError, ParseLimits


def test_supported_suffixes() -> None:
    assert set(SUPPORTED_SUFFIXES) == {".pdf", ".docx", ".html", ".htm", ".md", ".markdown", ".txt"}


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("archive.xyz", "unsupported file type '.xyz'"),
        ("Report.DOC", "unsupported file type '.doc'"),
        ("Makefile", "unsupported file type (no file extension)"),
    ],
)
def test_unsupported_suffix(loader: DocumentLoader, tmp_path: Path, name: str, reason: str) -> None:
    path = tmp_path / name
    path.write_text("text")
    with pytest.raises(LoaderError) as info:
        loader.load(path)
    assert str(info.value) == reason


def test_suffix_is_case_insensitive(loader: DocumentLoader, tmp_path: Path) -> None:
    (tmp_path / "README.MD").write_text("# Hello\n\nWorld")
    assert loader.load(tmp_path / "README.MD").title == "Hello"


@pytest.mark.parametrize("suffix", SUPPORTED_SUFFIXES)
def test_every_failure_is_a_safe_loader_error(loader: DocumentLoader, tmp_path: Path,
                                              suffix: str) -> None:
    secret_dir = tmp_path / "srv-share-confidential"
    secret_dir.mkdir()
    for label, data in [("empty", b""), ("junk", os.urandom(2048)), ("nul", b"\x00" * 64)]:
        path = secret_dir / f"{label}{suffix}"
        path.write_bytes(data)
        with pytest.raises(LoaderError) as info:
            loader.load(path)
        message = str(info.value)
        assert message and "\n" not in message and "Traceback" not in message
        assert str(tmp_path) not in message and "confidential" not in message
        assert path.name not in message
    with pytest.raises(LoaderError) as info:
        loader.load(secret_dir / f"missing{suffix}")
    assert str(info.value).startswith("could not read file")
    assert "confidential" not in str(info.value)


def test_directory_with_supported_suffix(loader: DocumentLoader, tmp_path: Path) -> None:
    (tmp_path / "folder.md").mkdir()
    with pytest.raises(LoaderError, match=r"^could not read file"):
        loader.load(tmp_path / "folder.md")


def test_invalid_limits_and_repeated_close() -> None:
    with pytest.raises(ValueError, match="timeout_s"):
        ParseLimits(timeout_s=0)
    with pytest.raises(ValueError, match="memory_mb"):
        ParseLimits(memory_mb=-1)
    loader = DocumentLoader()
    loader.close()
    loader.close()
