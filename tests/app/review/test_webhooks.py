"""Approval webhooks against a real HTTP receiver on 127.0.0.1: signing, retries with backoff,
giving up, the transactional outbox, the background thread and two racing senders. Every test
that touches the database runs on SQLite and on PostgreSQL (``db_settings``)."""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.audit.log import AuditFilter, AuditLog
from app.core.db import make_engine, migrate, session_factory
from app.core.settings import ReviewSettings, Settings
from app.core.tables import utcnow
from app.review.tables import Draft, WebhookAttempt, WebhookDelivery
from app.review.webhooks import WebhookSender, retry_delay, sign, verify_signature

SECRET = "s3cret-webhook-key-0123456789"
PAYLOAD = {"event": "draft.approved", "draft_id": "d1", "ticket_id": "T-1", "text": "Hallo ✓"}


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A real HTTP server that records every request and answers with the next status in
    ``answers`` (the last one repeats)."""

    answers: list[int] = field(default_factory=lambda: [200])
    delay_s: float = 0.0
    reply: bytes = b"ok"
    requests: list[Received] = field(default_factory=list)
    got: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        receiver, lock = self, threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with lock:
                    receiver.requests.append(Received("POST", self.path, dict(self.headers),
                                                      body))
                    status = (receiver.answers.pop(0) if len(receiver.answers) > 1
                              else receiver.answers[0])
                receiver.got.set()
                time.sleep(receiver.delay_s)
                self.send_response(status)
                self.send_header("Content-Length", str(len(receiver.reply)))
                self.end_headers()
                self.wfile.write(receiver.reply)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,),
                                       daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@dataclass
class World:
    sessions: sessionmaker[Session]
    audit: AuditLog
    senders: list[WebhookSender] = field(default_factory=list)
    receivers: list[Receiver] = field(default_factory=list)

    def receiver(self, answers: list[int] | None = None, delay_s: float = 0.0) -> Receiver:
        self.receivers.append(Receiver(answers or [200], delay_s))
        return self.receivers[-1]

    def sender(self, urls: list[str], transport: httpx.BaseTransport | None = None,
               **review: Any) -> WebhookSender:
        settings = ReviewSettings(**({"webhook_urls": urls, "webhook_secret": SECRET,
                                      "webhook_max_attempts": 3, "webhook_backoff_s": 0.01,
                                      "webhook_timeout_s": 2.0} | review))
        self.senders.append(WebhookSender(self.sessions, settings, self.audit,
                                          transport=transport))
        return self.senders[-1]

    def draft(self) -> str:
        draft_id = uuid.uuid4().hex
        with self.sessions() as session:
            session.add(Draft(id=draft_id, author_id=1, answer_id="a" * 32, collections=["kb"],
                              question="Why does my VPN fail?", prompt="customer_reply@1",
                              model_id="fake-llm", generated_text="Renew it.", text="Renew it."))
            session.commit()
        return draft_id

    def approve(self, sender: WebhookSender, draft_id: str,
                payload: dict[str, Any] = PAYLOAD) -> list[str]:
        """What the approval does: enqueue in its own transaction, commit, notify."""
        with self.sessions() as session:
            ids = sender.enqueue(session, draft_id, payload)
            session.commit()
        sender.notify()
        return ids

    def delivery(self, delivery_id: str) -> WebhookDelivery:
        with self.sessions() as session:
            return session.get_one(WebhookDelivery, delivery_id)

    def actions(self, action: str) -> list[dict[str, Any]]:
        return list(self.audit.entries(AuditFilter(action=action)))


@pytest.fixture
def world(db_settings: Settings) -> Iterator[World]:
    engine = make_engine(db_settings.resolved_database_url)
    migrate(engine)
    sessions = session_factory(engine)
    built = World(sessions, AuditLog(sessions))
    yield built
    for sender in built.senders:
        sender.close()
    for receiver in built.receivers:
        receiver.close()
    engine.dispose()


def drive(sender: WebhookSender, done: Callable[[], bool], timeout_s: float = 5.0) -> int:
    """Call deliver_due until ``done``; return how many attempts it made."""
    attempts, deadline = 0, time.monotonic() + timeout_s
    while not done():
        assert time.monotonic() < deadline, "deliveries did not settle in time"
        attempts += sender.deliver_due()
        time.sleep(0.005)
    return attempts


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"


# -- signing ---------------------------------------------------------------------------------
def test_verify_signature_accepts_only_the_exact_body_secret_and_a_fresh_timestamp() -> None:
    body, ts = b'{"a":1}', "1700000000"
    header = sign(SECRET, ts, body)
    assert header.startswith("sha256=") and len(header) == 7 + 64
    assert verify_signature(SECRET, ts, body, header, now=1700000000 + 299)
    assert not verify_signature(SECRET, ts, b'{"a":2}', header, now=1700000000)
    assert not verify_signature("another-secret-entirely", ts, body, header, now=1700000000)
    assert not verify_signature(SECRET, ts, body, header, now=1700000000 + 301)
    assert not verify_signature(SECRET, ts, body, header, now=1700000000 - 301)  # future
    assert not verify_signature(SECRET, "1700000001", body, header, now=1700000000)
    assert not verify_signature(SECRET, "nan", body, sign(SECRET, "nan", body))
    assert not verify_signature(SECRET, "soon", body, header)
    assert not verify_signature(SECRET, ts, body, "sha256=é", now=1700000000)
    assert not verify_signature("", ts, body, sign("", ts, body), now=1700000000)


def test_retry_delay_doubles_and_is_capped_at_ten_minutes() -> None:
    assert [retry_delay(n, 2.0) for n in (1, 2, 3, 4)] == [2.0, 4.0, 8.0, 16.0]
    assert retry_delay(30, 2.0) == 600.0


def test_delivered_request_is_signed_and_verifies(world: World) -> None:
    receiver = world.receiver([200])
    sender = world.sender([receiver.url])
    draft_id = world.draft()
    [delivery_id] = world.approve(sender, draft_id)

    assert sender.deliver_due() == 1

    [req] = receiver.requests
    assert (req.method, req.path) == ("POST", "/hook")
    assert req.body == json.dumps(PAYLOAD, sort_keys=True, separators=(",", ":")).encode()
    assert req.headers["Content-Type"] == "application/json"
    assert req.headers["X-Vraagbaak-Event"] == "draft.approved"
    assert req.headers["X-Vraagbaak-Delivery"] == delivery_id
    ts, sig = req.headers["X-Vraagbaak-Timestamp"], req.headers["X-Vraagbaak-Signature"]
    assert abs(int(ts) - time.time()) < 60
    assert verify_signature(SECRET, ts, req.body, sig)
    assert not verify_signature(SECRET, ts, req.body.replace(b"T-1", b"T-2"), sig)
    assert not verify_signature("wrong-secret-wrong-secret", ts, req.body, sig)
    assert not verify_signature(SECRET, ts, req.body, sig, now=int(ts) + 301)
    assert SECRET not in json.dumps(world.actions("webhook_delivered"))
    assert world.delivery(delivery_id).status == "delivered"
    assert sender.deliver_due() == 0  # delivered once, not again
    assert len(receiver.requests) == 1


def test_without_a_secret_no_signature_header_is_sent(world: World) -> None:
    receiver = world.receiver([200])
    sender = world.sender([receiver.url], webhook_secret="")
    world.approve(sender, world.draft(), {"draft_id": "x"})  # no event: the default one
    assert sender.deliver_due() == 1
    [req] = receiver.requests
    assert "X-Vraagbaak-Signature" not in req.headers
    assert req.headers["X-Vraagbaak-Event"] == "draft.approved"


# -- retries ---------------------------------------------------------------------------------
def test_retries_with_backoff_until_delivered(world: World) -> None:
    receiver = world.receiver([500, 500, 200])
    sender = world.sender([receiver.url])
    draft_id = world.draft()
    [delivery_id] = world.approve(sender, draft_id)

    tried = drive(sender, lambda: world.delivery(delivery_id).status != "pending")

    assert tried == 3
    row = world.delivery(delivery_id)
    assert (row.status, row.attempts, row.delivered_at is not None) == ("delivered", 3, True)
    assert {r.headers["X-Vraagbaak-Delivery"] for r in receiver.requests} == {delivery_id}
    assert len({r.body for r in receiver.requests}) == 1  # a retry is the same request
    [view] = sender.deliveries(draft_id)
    assert [a.status_code for a in view.history] == [500, 500, 200]
    assert all(a.error == "" and a.duration_ms >= 0 for a in view.history)
    assert (view.id, view.url, view.status, view.attempts) == (
        delivery_id, receiver.url, "delivered", 3)
    assert view.next_attempt_at is None and view.delivered_at
    [entry] = world.actions("webhook_delivered")
    assert entry["target"] == draft_id
    assert entry["details"]["delivery_id"] == delivery_id
    assert world.actions("webhook_failed") == []
    assert sender.deliveries("no-such-draft") == []


def test_a_failed_attempt_waits_for_its_backoff(world: World) -> None:
    receiver = world.receiver([500, 200])
    sender = world.sender([receiver.url], webhook_backoff_s=60.0)
    [delivery_id] = world.approve(sender, world.draft())

    before = utcnow()
    assert sender.deliver_due() == 1
    assert sender.deliver_due() == 0  # not due for a minute
    assert len(receiver.requests) == 1
    row = world.delivery(delivery_id)
    assert (row.status, row.attempts) == ("pending", 1)
    wait = row.next_attempt_at - before
    assert timedelta(seconds=59) < wait < timedelta(seconds=62)


def test_gives_up_after_max_attempts(world: World) -> None:
    receiver = world.receiver([500])
    dead = closed_port_url()
    sender = world.sender([receiver.url, dead])
    draft_id = world.draft()
    with world.sessions() as session:
        draft_before = session.get_one(Draft, draft_id).__dict__.copy()
    world.approve(sender, draft_id)

    tried = drive(sender, lambda: all(d.status != "pending"
                                      for d in sender.deliveries(draft_id)))

    assert tried == 6
    by_url = {d.url: d for d in sender.deliveries(draft_id)}
    for view in by_url.values():
        assert (view.status, view.attempts, len(view.history)) == ("failed", 3, 3)
        assert view.delivered_at is None and view.next_attempt_at is None
    assert [a.status_code for a in by_url[receiver.url].history] == [500, 500, 500]
    for attempt in by_url[dead].history:
        assert attempt.status_code is None
        assert attempt.error.startswith("ConnectError")
    assert len(receiver.requests) == 3
    failed = world.actions("webhook_failed")
    assert sorted(e["details"]["url"] for e in failed) == sorted([receiver.url, dead])
    assert world.actions("webhook_delivered") == []
    assert sender.deliver_due() == 0  # given up means given up
    assert len(receiver.requests) == 3
    with world.sessions() as session:
        draft_after = session.get_one(Draft, draft_id).__dict__
    keep = [k for k in draft_before if not k.startswith("_")]
    assert {k: draft_after[k] for k in keep} == {k: draft_before[k] for k in keep}


def test_error_text_is_short_and_never_holds_the_secret(world: World) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot reach {request.url} with key {SECRET} " + "x" * 2000)

    sender = world.sender(["http://tickets.invalid/hook"], httpx.MockTransport(refuse),
                          webhook_max_attempts=1)
    draft_id = world.draft()
    world.approve(sender, draft_id)

    assert sender.deliver_due() == 1

    [view] = sender.deliveries(draft_id)
    [attempt] = view.history
    assert view.status == "failed"
    assert attempt.error.startswith("ConnectError: cannot reach http://tickets.invalid/hook")
    assert SECRET not in attempt.error and "[redacted]" in attempt.error
    assert len(attempt.error) == 500
    assert SECRET not in json.dumps(world.actions("webhook_failed"))


# -- the outbox ------------------------------------------------------------------------------
def count_deliveries(world: World) -> int:
    with world.sessions() as session:
        return session.scalar(select(func.count()).select_from(WebhookDelivery)) or 0


def test_enqueue_without_urls_adds_nothing(world: World) -> None:
    sender = world.sender([])
    draft_id = world.draft()
    assert world.approve(sender, draft_id) == []
    assert count_deliveries(world) == 0
    assert sender.deliver_due() == 0


def test_enqueue_belongs_to_the_callers_transaction(world: World) -> None:
    first, second = world.receiver([200]), world.receiver([200])
    sender = world.sender([first.url, second.url])
    draft_id = world.draft()

    with world.sessions() as session:
        ids = sender.enqueue(session, draft_id, PAYLOAD)
        session.flush()  # written, but not committed
        assert len(ids) == 2
        assert sender.deliver_due() == 0  # another connection sees nothing yet
        session.rollback()
    assert count_deliveries(world) == 0
    assert sender.deliver_due() == 0
    assert first.requests == second.requests == []

    ids = world.approve(sender, draft_id)
    assert count_deliveries(world) == 2
    assert {world.delivery(i).url for i in ids} == {first.url, second.url}
    assert sender.deliver_due() == 2
    assert len(first.requests) == len(second.requests) == 1


# -- the worker thread -----------------------------------------------------------------------
def test_background_thread_delivers_after_notify_and_stops_promptly(world: World) -> None:
    receiver = world.receiver([200])
    sender = world.sender([receiver.url])
    sender.start()
    sender.start()  # idempotent
    draft_id = world.draft()
    [delivery_id] = world.approve(sender, draft_id)

    assert receiver.got.wait(5)
    drive(sender, lambda: world.delivery(delivery_id).status == "delivered")

    started = time.monotonic()
    sender.stop()
    sender.stop()  # idempotent
    assert time.monotonic() - started < 2
    assert [t for t in threading.enumerate() if t.name == "webhooks"] == []
    assert len(receiver.requests) == 1


def test_two_senders_racing_send_each_delivery_once(world: World) -> None:
    receiver = world.receiver([200], delay_s=0.05)
    one, two = world.sender([receiver.url]), world.sender([receiver.url])
    ids = [i for _ in range(4) for i in world.approve(one, world.draft())]
    barrier = threading.Barrier(2)
    tried: list[int] = []

    def run(sender: WebhookSender) -> None:
        barrier.wait()
        tried.append(sender.deliver_due())

    threads = [threading.Thread(target=run, args=(s,)) for s in (one, two)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)

    assert sum(tried) == 4
    assert sorted(r.headers["X-Vraagbaak-Delivery"] for r in receiver.requests) == sorted(ids)
    with world.sessions() as session:
        assert session.scalar(select(func.count()).select_from(WebhookAttempt)) == 4
    assert {world.delivery(i).status for i in ids} == {"delivered"}
