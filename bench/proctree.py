"""A process and its descendants, read from Linux's /proc: who they are and how much memory
they hold right now. Enough for a peak-RSS benchmark and a no-leftover-children check, without
a dependency (the product runs on Linux; its parse limits, RLIMIT_AS and the forkserver, do too).
"""

from __future__ import annotations

import os
from pathlib import Path

PROC = Path("/proc")
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _children_by_parent() -> dict[int, list[int]]:
    """Every live process's children, from the parent pid in /proc/<pid>/stat."""
    out: dict[int, list[int]] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after it
        fields = stat[stat.rfind(")") + 2:].split()
        if fields[0] == "Z":  # a zombie holds no memory and runs nothing
            continue
        out.setdefault(int(fields[1]), []).append(int(entry.name))
    return out


def descendants(pid: int) -> list[int]:
    """The live (non-zombie) descendants of ``pid``, children first."""
    tree = _children_by_parent()
    found: list[int] = []
    todo = list(tree.get(pid, []))
    while todo:
        child = todo.pop(0)
        found.append(child)
        todo += tree.get(child, [])
    return found


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, dead but not yet reaped, does not count)."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2:].split()[0] != "Z"


def rss_bytes(pid: int) -> int:
    """Resident set size of one process now (0 if it is gone)."""
    try:
        return int((PROC / str(pid) / "statm").read_text().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return 0


def tree_rss_bytes(pid: int) -> tuple[int, int]:
    """(sum of the RSS of ``pid`` and all its descendants, how many processes that is).

    Shared pages (the forkserver's preloaded libraries in each forked worker) count once per
    process, so the sum errs high: a bound, not an underestimate."""
    pids = [pid, *descendants(pid)]
    return sum(rss_bytes(p) for p in pids), len(pids)
