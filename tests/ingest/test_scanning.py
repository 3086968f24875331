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


def test_a_name_that_is_not_utf8_is_a_candidate_under_its_display_name(tmp_path: Path) -> None:
    folder = os.fsencode(tmp_path)
    for raw in (b"caf\xe9.md", b"two\nlines.md"):
        Path(os.fsdecode(folder + b"/" + raw)).write_text("text")
    candidates, skipped = scan(tmp_path, max_bytes=1000)
    assert [c.rel for c in candidates] == ["caf%E9.md", "two%0Alines.md"]
    assert os.fsencode(candidates[0].path.name) == b"caf\xe9.md"  # still opens the real file
    assert skipped == []


def test_two_files_with_one_display_name_keep_the_utf8_one(tmp_path: Path) -> None:
    (tmp_path / "caf%E9.md").write_text("the literal name")
    Path(os.fsdecode(os.fsencode(tmp_path) + b"/caf\xe9.md")).write_text("the cp1252 name")
    candidates, skipped = scan(tmp_path, max_bytes=1000)
    assert [(c.rel, c.path.name) for c in candidates] == [("caf%E9.md", "caf%E9.md")]
    assert [s.rel for s in skipped] == ["caf%E9.md"]
    assert "same name" in skipped[0].reason


def test_a_path_too_long_to_store_is_refused(tmp_path: Path) -> None:
    deep = tmp_path.joinpath(*["d" * 200] * 6)
    deep.mkdir(parents=True)
    (deep / "x.md").write_text("deep")
    (tmp_path / "ok.md").write_text("shallow")
    candidates, skipped = scan(tmp_path, max_bytes=1000)
    assert [c.rel for c in candidates] == ["ok.md"]
    assert [s.reason.split(" (")[0] for s in skipped] == ["path too long"]


def test_a_file_that_vanishes_mid_scan_is_skipped_not_fatal(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "here.md").write_text("here")
    listed = list(os.walk(tmp_path))
    listed[0][2].append("gone.md")  # listed by the walk, deleted before it is looked at
    monkeypatch.setattr("ingest.scanning.os.walk", lambda *_a, **_k: iter(listed))
    candidates, skipped = scan(tmp_path, max_bytes=1000)
    assert [c.rel for c in candidates] == ["here.md"]
    assert [(s.rel, s.reason) for s in skipped] == [
        ("gone.md", "could not read file (No such file or directory)")]
