"""Find the indexable files of a collection folder, refusing anything unsafe or unusable.

Paths are resolved and confined to the collection root: symbolic links are never followed
(a link could point at /etc or another team's share), and a path that resolves outside the
root is refused even if it got there another way. Hidden files and folders (``.git``,
``.DS_Store``) are ignored silently; every other refusal is reported with a reason.

Names are data (``ingest.names``): a file is known by the display form of its relative path,
which is valid UTF-8 whatever bytes the name holds. A file that vanishes mid-scan, a folder that
cannot be listed and a path too long to store are refusals with a reason, never a crash.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from ingest.loaders import SUPPORTED_SUFFIXES
from ingest.names import display_name
from ingest.reading import too_large, unreadable

# Documents are unique per (collection, path) in SQL; PostgreSQL's b-tree index refuses keys
# over ~2.7 kB, so a longer path would fail its whole batch at commit instead of alone here.
MAX_PATH_BYTES = 1024


@dataclass(frozen=True)
class Candidate:
    rel: str  # display form (ingest.names), forward slashes, relative to the root
    path: Path  # the file itself, to open
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
    found: list[Candidate] = []
    skipped: list[Skipped] = []

    def unlisted(exc: OSError) -> None:
        where = Path(exc.filename) if isinstance(exc.filename, str) else real_root
        skipped.append(Skipped(_rel(where, real_root), f"folder not read ({exc.strerror})"))

    for dirpath, dirnames, filenames in os.walk(real_root, onerror=unlisted, followlinks=False):
        here = Path(dirpath)
        for name in list(dirnames):
            if name.startswith("."):
                dirnames.remove(name)
            elif _is_link(here / name):
                dirnames.remove(name)
                skipped.append(Skipped(_rel(here / name, real_root), "symbolic link not followed"))
        for name in filenames:
            if name.startswith("."):
                continue
            path = here / name
            rel = _rel(path, real_root)
            outcome = _inspect(path, rel, real_root, max_bytes)
            if isinstance(outcome, str):
                skipped.append(Skipped(rel, outcome))
            else:
                found.append(Candidate(rel, path, outcome))
    candidates = _one_per_name(found, real_root, skipped)
    skipped.sort(key=lambda s: s.rel)
    return candidates, skipped


def _rel(path: Path, root: Path) -> str:
    return display_name(path.relative_to(root).as_posix())


def _is_link(path: Path) -> bool:
    try:
        return stat.S_ISLNK(path.lstat().st_mode)
    except OSError:
        return False  # gone since the listing: os.walk will not find it either


def _inspect(path: Path, rel: str, root: Path, max_bytes: int) -> int | str:
    """The file's size, or the reason it is refused. One ``lstat``: the file may change under
    us, and reading it later re-checks through its descriptor (``ingest.reading``)."""
    if len(rel.encode()) > MAX_PATH_BYTES:
        return f"path too long ({len(rel.encode())} bytes, limit {MAX_PATH_BYTES})"
    try:
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode):
            return "symbolic link not followed"
        if not path.resolve().is_relative_to(root):
            return "path resolves outside the collection folder"
    except OSError as exc:  # vanished mid-scan, or a name the OS cannot handle
        return unreadable(exc)
    except RuntimeError:  # a symlink loop further up (Path.resolve in Python 3.11)
        return "path resolves outside the collection folder"
    if not stat.S_ISREG(info.st_mode):
        return "not a regular file"
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        return f"unsupported file type '{display_name(suffix) or '(none)'}'"
    if info.st_size == 0:
        return "empty file"
    if info.st_size > max_bytes:
        return too_large(info.st_size, max_bytes)
    return info.st_size


def _one_per_name(found: list[Candidate], root: Path, skipped: list[Skipped]) -> list[Candidate]:
    """Candidates sorted by ``rel``, one per display name. A file whose name is valid UTF-8
    keeps its name; one that only reads like it once its bytes are written as ``%XX`` is
    refused, since both would be the same document (see ``ingest.names``)."""
    def preference(cand: Candidate) -> tuple[str, bool, str]:
        raw = cand.path.relative_to(root).as_posix()
        return cand.rel, raw != cand.rel, raw

    by_rel: dict[str, Candidate] = {}
    for cand in sorted(found, key=preference):
        if cand.rel in by_rel:
            skipped.append(Skipped(cand.rel, "another file has the same name once the bytes "
                                             "of this name that are not UTF-8 are written as %XX"))
        else:
            by_rel[cand.rel] = cand
    return list(by_rel.values())
