"""The retention job: question texts older than ``privacy.question_days`` are anonymised or
deleted, table by table as ``app.privacy.registry`` lists them.

* ``anonymise`` blanks the texts and keeps the rows, their ids, times, votes, states and
  citations' documents, so every count the adoption figures make stays what it was.
* ``delete`` removes the rows, and what hangs off them: every table with a foreign key to a
  deleted row loses its rows too (or has the key set to NULL where the key says ``SET
  NULL``), done here rather than left to the database, so it holds on SQLite and PostgreSQL
  alike. Drafts refer to answers by id without a key: an answer a draft in review reads is
  kept (the registry's ``keep``), and a finished draft ages by its own date.

Batched: at most ``privacy.retention_batch`` rows per transaction, walked in primary-key order
(keyset, so a row that cannot be changed is passed, never looped on), so the job holds the
write lock only for a moment. Idempotent: done rows no longer match, a second run changes
nothing. Audited with counts only. ``RetentionSchedule`` runs it in the server; the CLI's
``vraagbaak privacy retention`` runs it on demand (``--dry-run`` counts and changes nothing).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Column, ColumnElement, Table, Text, cast, delete, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from app.audit.log import AuditLog
from app.core.settings import PrivacySettings
from app.core.tables import Base, utcnow
from app.privacy.records import RetentionReport
from app.privacy.registry import REGISTRY, Retained

log = logging.getLogger("vraagbaak.privacy")


def _pk(table: type[Any]) -> Column[Any]:
    return _single_pk(table.__table__)


def _not_done(entry: Retained) -> ColumnElement[bool]:
    """Rows of ``entry`` that still hold text (see the registry: what marks a row done)."""
    table = entry.table
    marks: list[ColumnElement[bool]] = [
        func.coalesce(getattr(table, name), "") != "" for name in entry.texts]
    marks += [func.coalesce(cast(getattr(table, j.column), Text), "") != json.dumps(j.blank)
              for j in entry.json if j.blank is not None]
    marks += [getattr(table, name).is_not(None) for name in entry.vectors]
    if not marks:
        raise ValueError(f"retention entry {entry.name} has nothing that marks a row done")
    return or_(*marks)


def _aged(entry: Retained, cutoff: datetime) -> list[ColumnElement[bool]]:
    where = [entry.time() < cutoff]
    if entry.keep is not None:
        where.append(~entry.keep())
    return where


class Retention:
    def __init__(self, sessions: sessionmaker[Session], settings: PrivacySettings,
                 audit: AuditLog, registry: Sequence[Retained] = REGISTRY) -> None:
        self._sessions = sessions
        self._settings = settings
        self._audit = audit
        self._registry = registry
        self._stop = threading.Event()

    def cutoff(self, now: datetime | None = None) -> datetime:
        return (now or utcnow()) - timedelta(days=self._settings.question_days)

    def run(self, *, dry_run: bool = False, now: datetime | None = None,
            actor: str = "system", stop: threading.Event | None = None) -> RetentionReport:
        """Anonymise or delete what is older than the cutoff; with ``dry_run``, only count
        the rows a run would change (in delete mode: the rows themselves, not what hangs off
        them). ``stop``, once set, ends the run after the batch in flight."""
        mode, cutoff = self._settings.retention_mode, self.cutoff(now)
        self._stop = stop or threading.Event()
        rows: dict[str, int] = {}
        for entry in self._registry:
            deleting = entry.derived or (mode == "delete" and entry.deletable)
            if dry_run:
                found = self._count(entry, cutoff, deleting)
                if found:
                    rows[entry.name] = rows.get(entry.name, 0) + found
            elif deleting:
                for table, n in self._delete_aged(entry, cutoff).items():
                    rows[table] = rows.get(table, 0) + n
            else:
                n = self._anonymise(entry, cutoff)
                if n:
                    rows[entry.name] = rows.get(entry.name, 0) + n
        report = RetentionReport(mode=mode, cutoff=cutoff, dry_run=dry_run, rows=rows)
        if not dry_run and rows:  # counts only: never a text, an id or a person
            self._audit.record(actor, "retention_applied", mode, cutoff=cutoff.isoformat(),
                               days=self._settings.question_days, rows=rows)
        return report

    def _count(self, entry: Retained, cutoff: datetime, deleting: bool) -> int:
        where = _aged(entry, cutoff) + ([] if deleting else [_not_done(entry)])
        with self._sessions() as session:
            return int(session.scalar(select(func.count()).select_from(entry.table)
                                      .where(*where)) or 0)

    def _batches(self, entry: Retained, where: list[ColumnElement[bool]],
                 extra: Iterable[Any] = ()) -> Iterable[tuple[Session, list[Any]]]:
        """Keyset pages of at most ``retention_batch`` rows, each in its own transaction
        (committed when the consumer asks for the next page)."""
        pk, last = _pk(entry.table), None
        while not self._stop.is_set():
            with self._sessions() as session:
                stmt = select(pk, *extra).where(*where)
                if last is not None:
                    stmt = stmt.where(pk > last)
                page = list(session.execute(stmt.order_by(pk)
                                            .limit(self._settings.retention_batch)))
                if not page:
                    return
                yield session, page
                session.commit()
                last = page[-1][0]

    def _anonymise(self, entry: Retained, cutoff: datetime) -> int:
        table, done = entry.table, 0
        nulls = [getattr(table, name).is_(None) for name in entry.texts]
        rewritten = [getattr(table, j.column) for j in entry.json]
        where = [*_aged(entry, cutoff), _not_done(entry)]
        pk_name = _pk(table).key
        for session, page in self._batches(entry, where, [*nulls, *rewritten]):
            changes = []
            for row in page:
                values: dict[str, Any] = {pk_name: row[0]}
                for i, name in enumerate(entry.texts):
                    values[name] = None if row[1 + i] else ""
                values.update(dict.fromkeys(entry.vectors))
                for j, spec in enumerate(entry.json):
                    old = row[1 + len(entry.texts) + j]
                    values[spec.column] = spec.blank if spec.blank is not None else (
                        spec.rewrite(old))
                changes.append(values)
            session.execute(update(table), changes)  # the ORM's bulk UPDATE by primary key
            done += len(changes)
        return done

    def _delete_aged(self, entry: Retained, cutoff: datetime) -> dict[str, int]:
        counts: dict[str, int] = {}
        for session, page in self._batches(entry, _aged(entry, cutoff)):
            _delete_rows(session, entry.table.__table__, [row[0] for row in page], counts)
        return counts


def _referring(table: Table) -> list[tuple[Table, Column[Any], str]]:
    """Every (child table, its key column, ondelete) with a foreign key to ``table``."""
    found = []
    for child in Base.metadata.sorted_tables:
        for fk in child.foreign_keys:
            if fk.column.table is table:
                found.append((child, fk.parent, (fk.ondelete or "").upper()))
    return found


def _delete_rows(session: Session, table: Table, ids: list[Any],
                 counts: dict[str, int]) -> None:
    """Delete rows ``ids`` of ``table`` and, first, whatever refers to them."""
    if not ids:
        return
    for child, column, ondelete in _referring(table):
        if ondelete == "SET NULL":
            session.execute(update(child).where(column.in_(ids)).values({column.key: None}))
            continue
        child_pk = list(child.primary_key.columns)
        if len(child_pk) == 1 and _referring(child):
            child_ids = list(session.scalars(select(child_pk[0]).where(column.in_(ids))))
            _delete_rows(session, child, child_ids, counts)
        else:
            result = session.execute(delete(child).where(column.in_(ids)))
            n = int(getattr(result, "rowcount", 0) or 0)
            if n:
                counts[child.name] = counts.get(child.name, 0) + n
    result = session.execute(delete(table).where(_single_pk(table).in_(ids)))
    n = int(getattr(result, "rowcount", 0) or 0)
    if n:
        counts[table.name] = counts.get(table.name, 0) + n


def _single_pk(table: Table) -> Column[Any]:
    (column,) = table.primary_key.columns
    return column


class RetentionSchedule:
    """Runs the retention job in the server: a minute after start (so a start-up is not
    slowed, and a test server that lives seconds never runs it), then every
    ``privacy.retention_every_hours``. Every process of a deployment may run it: a run is
    idempotent, so two at once only do the work once between them."""

    def __init__(self, retention: Retention, settings: PrivacySettings, *,
                 first_after_s: float = 60.0) -> None:
        self._retention = retention
        self._every_s = settings.retention_every_hours * 3600
        self._first_s = min(first_after_s, self._every_s)
        self._enabled = settings.retention_job
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if not self._enabled or self._thread is not None:
            return
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(self._stop,),
                                        name="retention", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop after the batch in flight (each batch is its own transaction)."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=30)

    def _run(self, stop: threading.Event) -> None:
        wait = self._first_s
        while not stop.wait(wait):
            wait = self._every_s
            try:
                self._retention.run(stop=stop)
            except Exception:  # the database may be briefly away; try again next time
                log.exception("retention run failed")
