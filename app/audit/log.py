"""The append-only, tamper-evident audit trail.

Every entry stores the SHA-256 of its own fields and of the previous entry's hash. Editing a
row, deleting one or reordering them breaks the chain, and ``verify`` names the first entry
where it breaks. Appends are serialised by the database, not by a Python lock: each writer
first updates the single ``audit_head`` row (a row lock on PostgreSQL, the write lock on
SQLite), so several processes can append without forking the chain.

The chain proves the log was not edited *after the fact by someone who did not recompute every
later hash*; an attacker with write access who rewrites the whole tail is caught only by
comparing with a head hash recorded elsewhere, which is why ``verify`` prints it.

Details are scrubbed before they are hashed: a key whose last word names a secret (password,
token, secret, api_key, cookie, authorization) never has its value stored.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from app.audit.records import AuditVerification
from app.audit.tables import AuditEntry, AuditHead
from app.core.tables import utcnow

GENESIS = "0" * 64
# the last word of a key names a secret: password, llm.api_key, session_cookie, csrf_token;
# but not token_id, token_days or cookie_secure, which the trail needs in clear
SECRET_KEY = re.compile(
    r"(^|[._-])(password|passwd|secret|api_?key|cookie|authorization|token)$", re.IGNORECASE)
FIELDS = ("seq", "at", "actor", "action", "target", "details", "prev_hash", "hash")


def _utc_text(at: datetime) -> str:
    """One spelling of a time on every backend (SQLite hands datetimes back naive)."""
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(seq: int, at: datetime, actor: str, action: str, target: str,
               details: dict[str, Any], prev_hash: str) -> str:
    payload = json.dumps([seq, _utc_text(at), actor, action, target, details, prev_hash],
                         sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


def scrub(value: Any) -> Any:
    """A JSON-safe copy with the value of every secret-named key replaced."""
    if isinstance(value, dict):
        return {str(k): "[redacted]" if SECRET_KEY.search(str(k)) else scrub(v)
                for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=repr) if isinstance(value, set | frozenset) else value
        return [scrub(v) for v in items]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


@dataclass(frozen=True)
class AuditFilter:
    """Which entries an export returns: all of them unless narrowed."""

    actor: str | None = None
    action: str | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive
    limit: int | None = None


class AuditLog:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def record(self, actor: str, action: str, target: str = "", **details: Any) -> int:
        """Append one entry and return its sequence number."""
        clean: dict[str, Any] = scrub(details)
        actor, target, at = actor[:128], str(target)[:200], utcnow()
        with self._sessions() as session:
            # the UPDATE comes first so the transaction starts by taking the write lock
            seq, prev = session.execute(
                update(AuditHead).where(AuditHead.id == 1)
                .values(seq=AuditHead.seq + 1).returning(AuditHead.seq, AuditHead.hash)
            ).one()
            digest = entry_hash(seq, at, actor, action, target, clean, prev)
            session.add(AuditEntry(seq=seq, at=at, actor=actor, action=action, target=target,
                                   details=clean, prev_hash=prev, hash=digest))
            session.execute(update(AuditHead).where(AuditHead.id == 1).values(hash=digest))
            session.commit()
        return int(seq)

    def verify(self) -> AuditVerification:
        """Recompute the chain from the first entry; stop at the first break."""
        prev, expected = GENESIS, 1
        with self._sessions() as session:
            stmt = select(AuditEntry).order_by(AuditEntry.seq).execution_options(yield_per=1000)
            with session.scalars(stmt) as rows:  # closes PostgreSQL's server-side cursor
                for e in rows:
                    broken = _check(e, expected, prev)
                    if broken:
                        return _broken(expected - 1, prev, *broken)
                    prev, expected = e.hash, expected + 1
            head = session.get(AuditHead, 1)
        count = expected - 1
        if head is None or head.seq > count:
            return _broken(count, prev, count + 1, f"entries after {count} were removed")
        if head.seq < count:
            return _broken(count, prev, head.seq + 1,
                           f"entries after {head.seq} were added outside the audit log")
        if head.hash != prev:
            return _broken(count - 1, prev, count,
                           f"entry {count} was changed after it was written")
        return AuditVerification(ok=True, entries=count, head_hash=prev)

    def entries(self, where: AuditFilter = AuditFilter()) -> Iterator[dict[str, Any]]:
        stmt = select(AuditEntry).order_by(AuditEntry.seq)
        if where.actor:
            stmt = stmt.where(AuditEntry.actor == where.actor)
        if where.action:
            stmt = stmt.where(AuditEntry.action == where.action)
        if where.since:
            stmt = stmt.where(AuditEntry.at >= where.since)
        if where.until:
            stmt = stmt.where(AuditEntry.at < where.until)
        if where.limit is not None:
            stmt = stmt.limit(where.limit)
        with (self._sessions() as session,
              session.scalars(stmt.execution_options(yield_per=1000)) as rows):
            for e in rows:
                yield {"seq": e.seq, "at": _utc_text(e.at), "actor": e.actor,
                       "action": e.action, "target": e.target, "details": e.details,
                       "prev_hash": e.prev_hash, "hash": e.hash}

    def latest(self, action: str) -> dict[str, Any] | None:
        with self._sessions() as session:
            e = session.scalars(select(AuditEntry).where(AuditEntry.action == action)
                                .order_by(AuditEntry.seq.desc()).limit(1)).first()
            return None if e is None else {"seq": e.seq, "details": e.details}

    def record_settings(self, flat: dict[str, Any]) -> int | None:
        """Record the settings a process starts with, when they differ from the last run's."""
        flat = scrub(flat)
        last = self.latest("settings_changed")
        before: dict[str, Any] = last["details"].get("settings", {}) if last else {}
        changed = sorted(k for k in flat.keys() | before.keys() if flat.get(k) != before.get(k))
        if not changed:
            return None
        return self.record("system", "settings_changed", "settings", changed=changed,
                           settings=flat)


def _broken(entries: int, head_hash: str, seq: int, reason: str) -> AuditVerification:
    return AuditVerification(ok=False, entries=entries, head_hash=head_hash, broken_seq=seq,
                             reason=reason)


def _check(e: AuditEntry, expected: int, prev: str) -> tuple[int, str] | None:
    """(broken seq, reason) if entry ``e`` breaks the chain at position ``expected``."""
    if e.seq != expected:
        return expected, f"entry {expected} is missing"
    if e.prev_hash != prev:
        return e.seq, f"entry {e.seq} does not link to entry {e.seq - 1}: one of them was changed"
    if entry_hash(e.seq, e.at, e.actor, e.action, e.target, e.details, e.prev_hash) != e.hash:
        return e.seq, f"entry {e.seq} was changed after it was written"
    return None


def to_jsonl(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    for row in rows:
        yield json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n"


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    """A cell a spreadsheet shows as text: a user-chosen name or target such as
    ``=HYPERLINK(...)`` gets a leading apostrophe (OWASP's advice against CSV injection).
    JSON lines stay exact; this only guards the copy meant for Excel."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def to_csv(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(FIELDS)
    for row in rows:
        writer.writerow([json.dumps(row[f], sort_keys=True) if f == "details" else _cell(row[f])
                         for f in FIELDS])
        yield buf.getvalue()
        buf.seek(0)
        buf.truncate()
    yield buf.getvalue()
