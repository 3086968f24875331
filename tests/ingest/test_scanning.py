import os
from pathlib import Path

import pytest

from ingest.scanning import RootError, scan


def _reasons(root: Path, max_bytes: int = 1000) -> dict[str, str]:
    return {s.rel: s.reason for s in scan(root, max_bytes=max_bytes)[1]}


def test_finds_supported_files_sorted(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "x.md").write_text("x")
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config.txt").write_text("hidden")
    candidates, skipped = scan(tmp_path, max_bytes=1000)
    assert [c.rel for c in candidates] == ["a.txt", "b/x.md"]
    assert skipped == []


def test_refuses_unsafe_and_unusable_files(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    outside = tmp_path / "secret.txt"
    outside.write_text("top secret")
    os.symlink(outside, root / "link.txt")
    os.symlink(tmp_path, root / "linkdir")
    (root / "empty.md").write_text("")
    (root / "big.txt").write_text("x" * 2000)
    (root / "image.png").write_bytes(b"\x89PNG")
    reasons = _reasons(root)
    assert reasons["link.txt"] == "symbolic link not followed"
    assert reasons["linkdir"] == "symbolic link not followed"
    assert reasons["empty.md"] == "empty file"
    assert reasons["big.txt"].startswith("file too large")
    assert reasons["image.png"] == "unsupported file type '.png'"
    assert all(str(tmp_path) not in r for r in reasons.values())


def test_missing_root_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(RootError):
        scan(tmp_path / "nope", max_bytes=10)
