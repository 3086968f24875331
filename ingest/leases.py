"""Leases: which snapshot each serving process holds, so a sweep never removes one in use.

Several API processes (replicas on one host, or on hosts sharing the index directory) serve
the same snapshots, memory-mapped. Each process writes one small file per collection,
``<collection>/leases/<holder>``, naming the snapshot it serves, and refreshes its time while it
searches. The sweep after a new snapshot keeps every snapshot a fresh lease names; a lease
older than ``LEASE_S`` belongs to a process that stopped (or stopped searching, and then reads
``CURRENT`` again before its next search) and is removed with the snapshots nobody holds.

Files, not rows: the index directory is what the processes share for snapshots, and a lease
must work for the CLI's sweeps as well as the servers'. Writes are atomic (temp file and
``os.replace``), so a reader sees the old or the new snapshot id, never half of one.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from pathlib import Path

LEASE_S = 300.0  # a lease not refreshed for this long no longer protects its snapshot
REFRESH_S = 30.0  # how often a searching process renews its lease, at most


def holder_id() -> str:
    """A name for this process's leases, unique across hosts and restarts."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def _dir(collection_dir: Path) -> Path:
    return collection_dir / "leases"


def hold(collection_dir: Path, holder: str, snapshot_id: str) -> None:
    """Record (or renew) that ``holder`` serves ``snapshot_id``."""
    leases = _dir(collection_dir)
    leases.mkdir(parents=True, exist_ok=True)
    tmp = leases / f".{holder}.tmp"
    tmp.write_text(snapshot_id)
    os.replace(tmp, leases / holder)


def release(collection_dir: Path, holder: str) -> None:
    (_dir(collection_dir) / holder).unlink(missing_ok=True)


def held(collection_dir: Path, *, now: float | None = None) -> set[str]:
    """The snapshot ids fresh leases name; stale lease files are removed on the way."""
    leases = _dir(collection_dir)
    if not leases.is_dir():
        return set()
    now = time.time() if now is None else now
    ids: set[str] = set()
    for lease in leases.iterdir():
        try:
            fresh = now - lease.stat().st_mtime < LEASE_S
            if fresh and not lease.name.startswith("."):
                ids.add(lease.read_text().strip())
            elif not fresh:
                lease.unlink(missing_ok=True)
        except FileNotFoundError:  # released or swept by another process meanwhile
            continue
    return ids
