"""Find the indexable files of a collection folder, refusing anything unsafe or unusable.

Paths are resolved and confined to the collection root: symbolic links are never followed
(a link could point at /etc or another team's share), and a path that resolves outside the
root is refused even if it got there another way. Hidden files and folders (``.git``,
``.DS_Store``) are ignored silently; every other refusal is reported with a reason.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ingest.loaders import SUPPORTED_SUFFIXES


@dataclass(frozen=True)
class Candidate:
    rel: str  # forward slashes, relative to the root
    path: Path
    size: int


@dataclass(frozen=True)
class Skipped:
    rel: str
    reason: str


class RootError(Exception):
    """The collection folder itself is unusable."""


def scan(root: Path, *, max_bytes: int) -> tuple[list[Candidate], list[Skipped]]:
    """Candidates sorted by relative path, and the files skipped with their reasons."""
    if not root.is_dir():
        raise RootError("collection folder does not exist or is not a directory")
    real_root = root.resolve()
    candidates: list[Candidate] = []
    skipped: list[Skipped] = []
    for dirpath, dirnames, filenames in os.walk(real_root, followlinks=False):
        here = Path(dirpath)
        for name in list(dirnames):
            if name.startswith("."):
                dirnames.remove(name)
            elif (here / name).is_symlink():
                dirnames.remove(name)
                skipped.append(Skipped(_rel(here / name, real_root), "symbolic link not followed"))
        for name in filenames:
            if name.startswith("."):
                continue
            path = here / name
            rel = _rel(path, real_root)
            reason = _refusal(path, real_root, max_bytes)
            if reason:
                skipped.append(Skipped(rel, reason))
            else:
                candidates.append(Candidate(rel, path, path.stat().st_size))
    candidates.sort(key=lambda c: c.rel)
    skipped.sort(key=lambda s: s.rel)
    return candidates, skipped


def _rel(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def _refusal(path: Path, root: Path, max_bytes: int) -> str | None:
    if path.is_symlink():
        return "symbolic link not followed"
    if not path.resolve().is_relative_to(root):
        return "path resolves outside the collection folder"
    if not path.is_file():
        return "not a regular file"
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        return f"unsupported file type '{suffix or '(none)'}'"
    size = path.stat().st_size
    if size == 0:
        return "empty file"
    if size > max_bytes:
        return f"file too large ({size / 1e6:.1f} MB, limit {max_bytes / 1e6:.1f} MB)"
    return None
