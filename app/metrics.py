"""Operational metrics of one process in the Prometheus text format (``GET /metrics``).

Each ``Metrics`` has its own registry (not prometheus-client's global one), so tests can build
as many apps as they like and every figure belongs to one process. Labels take values from
small fixed vocabularies only (route templates, status codes, channels, job states): never a
raw path, a collection name, a user name or a credential, so the series stay few and the
scrape shows nothing a caller without an account may not see.

Two kinds of figure:

- counted by this process (requests, answers, queue wait, time to first token, tokens/s):
  each replica reports its own; sum them across replicas;
- read from the database at scrape time (jobs by state, chunks embedded, the review queue):
  every replica reports the same shared value; take ``max`` across replicas, not ``sum``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.answering.llm_worker import LLMWorker
from app.answering.tables import Answer
from app.evaluation.tables import EvalRun
from app.knowledge.tables import Job
from app.review.tables import Draft

log = logging.getLogger("vraagbaak.metrics")

# seconds; a request is fast (search, health) or waits for the LLM (chat: many seconds)
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
WAIT_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
RATE_BUCKETS = (1, 2, 5, 10, 20, 30, 50, 75, 100, 200)


class Metrics:
    """The instruments one process updates, and the figures read when Prometheus scrapes."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)  # process_* memory, CPU, open files
        self.requests = Histogram(
            "vraagbaak_http_request_duration_seconds",
            "HTTP requests by route template, method and status: time until the last byte "
            "(a streamed answer counts until it ends); _count is the number of requests.",
            ["route", "method", "status"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.answers = Counter(
            "vraagbaak_answers", "Answers given, by outcome (answered, refused) and channel "
            "(chat, openai, draft, eval, cli).", ["outcome", "channel"], registry=self.registry)
        self.queue_wait = Histogram(
            "vraagbaak_llm_queue_wait_seconds", "Time an answer waited for the LLM worker.",
            buckets=WAIT_BUCKETS, registry=self.registry)
        self.first_token = Histogram(
            "vraagbaak_llm_first_token_seconds", "Time from the question to the first "
            "generated token (retrieval and queue wait included).",
            buckets=WAIT_BUCKETS, registry=self.registry)
        self.token_rate = Histogram(
            "vraagbaak_llm_tokens_per_second", "Generation speed of each answer.",
            buckets=RATE_BUCKETS, registry=self.registry)

    def watch(self, worker: LLMWorker, sessions: sessionmaker[Session]) -> None:
        """Report the worker's queue and the database's job and review figures at scrape."""
        self.registry.register(_Snapshot(worker, sessions))

    def answered(self, record: Answer) -> None:
        """Count one stored answer (``AnswerService`` calls this after storing it)."""
        self.answers.labels("refused" if record.refused else "answered", record.channel).inc()
        figures = record.latency_ms or {}
        if "queue_wait" in figures:
            self.queue_wait.observe(figures["queue_wait"] / 1000)
        if "first_token" in figures:
            self.first_token.observe(figures["first_token"] / 1000)
        tokens, generation = figures.get("tokens"), figures.get("generation")
        if tokens and generation:
            self.token_rate.observe(tokens / (generation / 1000))

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(route, method, str(status)).observe(seconds)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class _Snapshot:
    """Figures read when Prometheus scrapes: nothing to keep in step, nothing to go stale."""

    def __init__(self, worker: LLMWorker, sessions: sessionmaker[Session]) -> None:
        self._worker = worker
        self._sessions = sessions

    def describe(self) -> list[Metric]:
        return []  # registering must not query the database

    def collect(self) -> Iterator[Metric]:
        yield _gauge("vraagbaak_llm_queue_depth", "Answers waiting for the LLM worker.",
                     self._worker.waiting)
        yield _gauge("vraagbaak_llm_busy", "1 while the LLM worker is generating.",
                     int(self._worker.busy.is_set()))
        try:
            with self._sessions() as session:
                families = [f(session) for f in READ_AT_SCRAPE]
        except Exception as exc:  # the database is down: say so, keep the other figures
            log.warning("metrics: database figures unavailable: %s", type(exc).__name__)
            yield _gauge("vraagbaak_database_up", "1 when the database answered the scrape.", 0)
            return
        yield _gauge("vraagbaak_database_up", "1 when the database answered the scrape.", 1)
        yield from families


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=value)


def _by_state(name: str, doc: str, rows: Any, label: str = "state") -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=[label])
    for state, count in rows:
        family.add_metric([state], count)
    return family


def _jobs(session: Session) -> GaugeMetricFamily:
    family = GaugeMetricFamily("vraagbaak_jobs", "Re-index and evaluation jobs by kind and "
                               "state (shared: the same on every replica).",
                               labels=["kind", "state"])
    for status, count in session.execute(
            select(Job.status, func.count()).group_by(Job.status)):
        family.add_metric(["reindex", status], count)
    for status, count in session.execute(
            select(EvalRun.status, func.count()).group_by(EvalRun.status)):
        family.add_metric(["eval", status], count)
    return family


def _ingest_chunks(session: Session) -> CounterMetricFamily:
    # jobs are never deleted and a job's count only grows, so the sum is a counter: rate()
    # over it is the deployment's chunks embedded per second (progress lands every few s)
    total = session.scalar(select(func.coalesce(func.sum(Job.chunks), 0))) or 0
    return CounterMetricFamily("vraagbaak_ingest_chunks_embedded", "Chunks embedded by all "
                               "re-index jobs, running ones included (shared).", value=total)


def _last_ingest_rate(session: Session) -> GaugeMetricFamily:
    row = session.execute(
        select(Job.chunks, Job.started_at, Job.finished_at)
        .where(Job.status == "succeeded", Job.chunks > 0, Job.started_at.is_not(None))
        .order_by(Job.finished_at.desc()).limit(1)).first()
    rate = 0.0
    if row is not None and row.finished_at is not None:
        seconds = (_aware(row.finished_at) - _aware(row.started_at)).total_seconds()
        rate = row.chunks / seconds if seconds > 0 else 0.0
    return _gauge("vraagbaak_ingest_last_job_chunks_per_second", "Chunks embedded per "
                  "second by the last re-index that embedded any; 0 before the first (shared).",
                  rate)


def _aware(moment: datetime) -> datetime:
    """SQLite hands datetimes back without their zone; they were stored in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _review_drafts(session: Session) -> GaugeMetricFamily:
    return _by_state("vraagbaak_review_drafts", "Customer reply drafts by review state "
                     "(shared).", session.execute(
                         select(Draft.state, func.count()).group_by(Draft.state)))


def _oldest_pending(session: Session) -> GaugeMetricFamily:
    oldest = session.scalar(select(func.min(Draft.submitted_at))
                            .where(Draft.state == "pending"))
    age = 0.0
    if oldest is not None:
        age = max(0.0, (datetime.now(UTC) - _aware(oldest)).total_seconds())
    return _gauge("vraagbaak_review_oldest_pending_seconds", "Age of the oldest draft waiting "
                  "for a reviewer; 0 when none waits (shared).", age)


READ_AT_SCRAPE: tuple[Callable[[Session], Metric], ...] = (
    _jobs, _ingest_chunks, _last_ingest_rate, _review_drafts, _oldest_pending)
