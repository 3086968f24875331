"""Signed webhooks that tell the ticketing system a draft was approved, delivered at least once.

An approval writes one ``WebhookDelivery`` row per configured URL in its own transaction
(``enqueue``), so the approval and the promise to announce it commit or roll back together: a
crash, a restart or an unreachable receiver can delay a webhook but never lose it. A daemon
thread (``start``) then POSTs each due delivery and retries failures with exponential backoff
until ``webhook_max_attempts``, recording every attempt for the draft view.

Delivery is at-least-once: a receiver may see a retry of a request it already handled (say
its 200 was lost), and dedupes on ``X-Vraagbaak-Delivery``. It checks authenticity with
``verify_signature``: the signature is an HMAC-SHA256 over the timestamp and the exact body,
and a stale timestamp is refused, so a captured request can't be replayed later.

The machinery (claim, signed POST, backoff, worker thread) is ``SignedOutbox``, shared with
the hand-offs of ``app.feedback.handoffs``; ``WebhookSender`` adds what approvals need (one
row per URL per draft, every attempt kept for the draft view).

Several processes may run a sender on one database. A delivery is claimed before it is sent
by a conditional ``UPDATE`` that pushes ``next_attempt_at`` past the HTTP timeout; only the
worker whose update matched the row posts it. No transaction stays open during the HTTP call,
and a process that dies mid-attempt leaves a claim that simply lapses and is retried.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

import httpx
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.audit.log import AuditLog
from app.core.settings import ReviewSettings
from app.core.tables import utcnow
from app.core.transitions import conditional_update
from app.review.records import WebhookAttemptOut, WebhookDeliveryOut
from app.review.tables import WebhookAttempt, WebhookDelivery

log = logging.getLogger("vraagbaak.webhooks")

MAX_DELAY_S = 600.0  # backoff cap
CLAIM_GRACE_S = 60.0  # a claim outlives the HTTP timeout by this much
POLL_S = 1.0  # the worker looks for due deliveries at least this often
BATCH = 100  # deliveries read per pass
MAX_ERROR_CHARS = 500


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=`` + hex HMAC-SHA256 of ``"<timestamp>." + body`` under ``secret``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(secret: str, timestamp: str, body: bytes, header: str, *,
                     max_age_s: float = 300, now: float | None = None) -> bool:
    """What a receiver does with ``X-Vraagbaak-Timestamp`` and ``X-Vraagbaak-Signature``:
    recompute the signature over the raw body and compare in constant time, refusing a
    timestamp more than ``max_age_s`` from its clock (either way). An empty secret verifies
    nothing."""
    try:
        sent = float(timestamp)
    except ValueError:
        return False
    current = time.time() if now is None else now
    if not secret or not abs(current - sent) <= max_age_s:  # `not <=` also refuses NaN
        return False
    return hmac.compare_digest(sign(secret, timestamp, body).encode(),
                               header.encode("utf-8", "replace"))


def retry_delay(attempts: int, backoff_s: float) -> float:
    """Seconds to wait after the ``attempts``-th failed attempt: backoff_s, 2×, 4×, … ≤ 10 min."""
    return min(backoff_s * 2.0 ** (attempts - 1), MAX_DELAY_S)


@dataclass(frozen=True)
class Claimed:
    """A due delivery taken by this worker."""

    id: str
    subject: str  # what the delivery announces (a draft id, an answer id): the audit subject
    url: str
    payload: dict[str, Any]
    attempts: int
    lease: datetime  # our claim: next_attempt_at as we set it


@dataclass(frozen=True)
class Sent:
    """One attempt's result: an HTTP status, or the error that kept it from getting one."""

    at: datetime
    status_code: int | None
    error: str
    duration_ms: float
    body: bytes = b""  # the receiver's reply, at most MAX_REPLY_BYTES

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


MAX_REPLY_BYTES = 4096


class SignedOutbox:
    """The machinery every signed webhook shares: rows of ``table`` (a mapped class with
    ``id``, ``url``, ``payload``, ``status``, ``attempts``, ``next_attempt_at`` and
    ``delivered_at``, and a ``subject`` column named by ``subject_column``) are claimed, POSTed
    with a signature, retried with backoff and finished by a worker thread. A subclass says
    what else an attempt records (``_finish``) and what the audit trail hears (``_announce``).
    One ``httpx.Client`` per sender; ``transport`` lets tests swap the network out."""

    table: ClassVar[type[Any]]
    subject_column: ClassVar[str]
    thread_name: ClassVar[str]
    default_event: ClassVar[str]

    def __init__(self, sessions: sessionmaker[Session], audit: AuditLog,
                 timing: ReviewSettings, secret: SecretStr, *,
                 transport: httpx.BaseTransport | None = None) -> None:
        self._sessions = sessions
        self._audit = audit
        self._timing = timing  # timeout, attempts and backoff: one policy for every webhook
        self._secret = secret
        self._client = httpx.Client(timeout=timing.webhook_timeout_s, transport=transport)
        self._wake = threading.Event()
        self._lock = threading.Lock()  # guards _thread and _stop
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def notify(self) -> None:
        """Wake the worker now rather than at its next poll (call after the commit)."""
        self._wake.set()

    def start(self) -> None:
        with self._lock:
            if self._thread is not None:
                return
            # a fresh flag per thread: one that outlived stop()'s join stays stopped
            self._stop = threading.Event()
            self._thread = threading.Thread(target=self._run, args=(self._stop,),
                                            name=self.thread_name, daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop the worker after its current attempt at most; safe to call twice."""
        with self._lock:
            thread, self._thread = self._thread, None
            self._stop.set()
        self._wake.set()
        if thread is not None:
            thread.join(timeout=self._timing.webhook_timeout_s + 5)

    def close(self) -> None:
        """Stop the worker and release the HTTP connections (at process shutdown)."""
        self.stop()
        self._client.close()

    def _run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self._wake.clear()  # before the pass: a notify() during it is not lost
            try:
                self._pass(stop)
                wait = self._seconds_to_next_due()
            except Exception:  # the database may be briefly away; keep the thread alive
                log.exception("%s delivery pass failed", self.thread_name)
                wait = POLL_S
            self._wake.wait(wait)

    def deliver_due(self) -> int:
        """POST every pending delivery that is due, once each; return how many were tried.
        Network errors and timeouts are recorded as failed attempts, never raised."""
        return self._pass(threading.Event())

    def _pass(self, stop: threading.Event) -> int:
        t = self.table
        with self._sessions() as session:
            due = session.scalars(
                select(t.id).where(t.status == "pending", t.next_attempt_at <= utcnow())
                .order_by(t.next_attempt_at).limit(BATCH)).all()
        attempted = 0
        for delivery_id in due:
            if stop.is_set():
                break
            claimed = self._claim(delivery_id)
            if claimed is not None:
                self._attempt(claimed)
                attempted += 1
        return attempted

    def _seconds_to_next_due(self) -> float:
        t = self.table
        with self._sessions() as session:
            at: datetime | None = session.scalar(
                select(func.min(t.next_attempt_at)).where(t.status == "pending"))
        if at is None:
            return POLL_S
        return min(max((at - utcnow()).total_seconds(), 0.0), POLL_S)

    def _claim(self, delivery_id: str) -> Claimed | None:
        """Take a due delivery for this worker, or None if another worker got there first."""
        t, now = self.table, utcnow()
        lease = now + timedelta(seconds=self._timing.webhook_timeout_s + CLAIM_GRACE_S)
        with self._sessions() as session:
            # the UPDATE is the transaction's first statement: on PostgreSQL the loser waits
            # for the winner's row lock and then no longer matches; SQLite serialises writers
            taken = conditional_update(
                session, t, t.id == delivery_id, t.status == "pending",
                t.next_attempt_at <= now, next_attempt_at=lease)
            if taken != 1:
                session.rollback()
                return None
            row = session.get_one(t, delivery_id)
            claimed = Claimed(row.id, getattr(row, self.subject_column), row.url,
                              dict(row.payload), row.attempts, lease)
            session.commit()
        return claimed

    def _attempt(self, job: Claimed) -> None:
        body = json.dumps(job.payload, sort_keys=True, separators=(",", ":")).encode()
        timestamp = str(int(time.time()))
        headers = {"Content-Type": "application/json",
                   "X-Vraagbaak-Event": str(job.payload.get("event", self.default_event)),
                   "X-Vraagbaak-Delivery": job.id,
                   "X-Vraagbaak-Timestamp": timestamp}
        if self._secret:
            headers["X-Vraagbaak-Signature"] = sign(
                self._secret.get_secret_value(), timestamp, body)
        at, started = utcnow(), time.perf_counter()
        status_code: int | None = None
        error, reply = "", b""
        try:
            response = self._client.post(job.url, content=body, headers=headers)
            status_code, reply = response.status_code, response.content[:MAX_REPLY_BYTES]
        except Exception as exc:  # a bad URL or a dead receiver is a failed attempt, not a crash
            error = self._error_text(exc)
        duration_ms = (time.perf_counter() - started) * 1000
        self._record(job, Sent(at, status_code, error, duration_ms, reply))

    def _record(self, job: Claimed, sent: Sent) -> None:
        t, attempts, now = self.table, job.attempts + 1, utcnow()
        values: dict[str, Any] = {"attempts": attempts}
        if sent.ok:
            values |= {"status": "delivered", "delivered_at": now}
        elif attempts >= self._timing.webhook_max_attempts:
            values |= {"status": "failed"}
        else:
            values |= {"next_attempt_at": now + timedelta(
                seconds=retry_delay(attempts, self._timing.webhook_backoff_s))}
        with self._sessions() as session:
            values |= self._finish(session, job, sent)
            # still ours only if no other worker took over a lapsed claim meanwhile
            conditional_update(session, t, t.id == job.id, t.status == "pending",
                               t.next_attempt_at == job.lease, **values)
            session.commit()
        self._announce(job, sent, attempts, values.get("status"))

    def _finish(self, session: Session, job: Claimed, sent: Sent) -> dict[str, Any]:
        """Add what else this attempt records to ``session``; return extra column values."""
        return {}

    def _announce(self, job: Claimed, sent: Sent, attempts: int, status: str | None) -> None:
        """Audit the attempt: ``status`` is delivered, failed, or None (retried later)."""

    def _error_text(self, exc: Exception) -> str:
        text = f"{type(exc).__name__}: {exc}"
        if self._secret:
            text = text.replace(self._secret.get_secret_value(), "[redacted]")
        return text[:MAX_ERROR_CHARS]


class WebhookSender(SignedOutbox):
    """Queues approval deliveries in the approval's transaction and sends them from a worker
    thread, keeping every attempt for the draft view."""

    table = WebhookDelivery
    subject_column = "draft_id"
    thread_name = "webhooks"
    default_event = "draft.approved"

    def __init__(self, sessions: sessionmaker[Session], settings: ReviewSettings,
                 audit: AuditLog, *, transport: httpx.BaseTransport | None = None) -> None:
        super().__init__(sessions, audit, settings, settings.webhook_secret,
                         transport=transport)
        self._settings = settings

    def enqueue(self, session: Session, draft_id: str, payload: dict[str, Any]) -> list[str]:
        """Add one delivery per configured URL to the caller's transaction (not committed
        here: the approval's commit is what makes them real) and return their ids."""
        rows = [WebhookDelivery(id=uuid.uuid4().hex, draft_id=draft_id, url=url,
                                payload=payload, next_attempt_at=utcnow())
                for url in self._settings.webhook_urls]
        session.add_all(rows)
        return [row.id for row in rows]

    def _finish(self, session: Session, job: Claimed, sent: Sent) -> dict[str, Any]:
        session.add(WebhookAttempt(delivery_id=job.id, at=sent.at,
                                   status_code=sent.status_code, error=sent.error,
                                   duration_ms=sent.duration_ms))
        return {}

    def _announce(self, job: Claimed, sent: Sent, attempts: int, status: str | None) -> None:
        if status is not None:
            action = "webhook_delivered" if status == "delivered" else "webhook_failed"
            self._audit.record("system", action, job.subject, delivery_id=job.id,
                               url=job.url, attempts=attempts,
                               status_code=sent.status_code, error=sent.error)

    def deliveries(self, draft_id: str) -> list[WebhookDeliveryOut]:
        """The draft's deliveries with every attempt, oldest first, for the draft view."""
        with self._sessions() as session:
            rows = session.scalars(select(WebhookDelivery)
                                   .where(WebhookDelivery.draft_id == draft_id)
                                   .order_by(WebhookDelivery.created_at, WebhookDelivery.id)
                                   ).all()
            tries = session.scalars(select(WebhookAttempt)
                                    .where(WebhookAttempt.delivery_id.in_([r.id for r in rows]))
                                    .order_by(WebhookAttempt.id)).all()
        return [WebhookDeliveryOut(
            id=r.id, url=r.url, status=r.status, attempts=r.attempts,
            next_attempt_at=r.next_attempt_at if r.status == "pending" else None,
            delivered_at=r.delivered_at,
            history=[WebhookAttemptOut(at=a.at, status_code=a.status_code, error=a.error,
                                       duration_ms=round(a.duration_ms, 1))
                     for a in tries if a.delivery_id == r.id])
            for r in rows]
