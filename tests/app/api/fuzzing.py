"""Fuzzing the HTTP API with schemathesis against its own ``/openapi.json``, in process.

One harness for the short seeded run of the suite (``test_fuzz.py``) and the long one of the
benchmarks (``bench/fuzz.py``). The app runs with the fake models over a small collection;
every request carries an admin's API token, so the fuzzer gets past sign-in to every route,
and that token is kept valid: the fuzzer can revoke it (``DELETE /v1/me/tokens/{id}`` with an
id it read from ``GET /v1/me/tokens``), disable its user or take away its role, and the next
case then gets a repaired user and a fresh token instead of a run of 401s.

The checks hold the server to its spec: no 5xx (in process, an exception the app lets out
counts as one); every status, content type, header and body as declared; a request the
schema allows is not refused as invalid (``positive_data_acceptance``) and one it forbids is
not taken (``negative_data_rejection``), which is where a route that validates more, or less,
than it declares shows; a 405 names the methods the path takes. And one of ours: no body
carries a stack trace or a server path, unless the fuzzer sent that text itself.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import schemathesis
from fastapi import FastAPI
from hypothesis.configuration import set_hypothesis_home_dir
from schemathesis.engine import events, from_schema
from schemathesis.engine.recorder import ScenarioRecorder
from schemathesis.generation.case import Case as AnyCase
from schemathesis.python import asgi

from app.core.errors import VraagbaakError
from app.core.settings import AuthSettings, RetrievalSettings, Settings
from app.main import create_app
from app.wiring import Services
from models.fakes import FakeEmbedder, FakeLLM
from tests.conftest import write_kb

Case = AnyCase[Any]
ROOT = Path(__file__).resolve().parents[3]
FUZZER = "fuzzer"
REPLY = "VPN error NWL-VPN-809 means the device certificate expired [1]."
PHASES = ("examples", "coverage", "fuzzing", "stateful")
# what answers must look like: as declared, and nothing internal in them
RESPONSE_CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
                   "response_schema_conformance", "response_headers_conformance",
                   "unsupported_method", "allow_header_conformance", "ignored_auth",
                   "no_internals_in_body")
# what the routes take: exactly what the schema allows
VALIDATION_CHECKS = ("positive_data_acceptance", "negative_data_rejection")
# a failure of one of these: the declared schema and what the route does disagree
MISMATCH_CHECKS = frozenset(RESPONSE_CHECKS + VALIDATION_CHECKS) - {
    "not_a_server_error", "no_internals_in_body", "ignored_auth"}
SAMPLES = 40  # failures described in full per run; the counts cover them all

TRACES = ("Traceback (most recent call last)", 'File "')
# the audit export is the admin's record of the server's own settings: it names their folders
NAMES_SERVER_FOLDERS = frozenset({"GET /v1/admin/audit"})


def internals(workdir: Path) -> tuple[str, ...]:
    """What a body must not hold: a traceback, or a path on this server."""
    return (*TRACES, str(ROOT), str(workdir.resolve()), sys.prefix, "site-packages",
            os.path.join(tempfile.gettempdir(), "tmp"))


class Internals:
    """The markers of the run going on, and those the fuzzer itself has sent so far: a
    response may quote what an earlier request stored (a display name, say), and that is no
    leak."""

    def __init__(self) -> None:
        self.markers: tuple[str, ...] = ()
        self.sent: set[str] = set()

    def found(self, operation: str, body: str, request: str) -> str | None:
        self.sent.update(m for m in self.markers if m in request)
        markers = TRACES if operation in NAMES_SERVER_FOLDERS else self.markers
        return next((m for m in markers if m in body and m not in self.sent), None)


_internals = Internals()  # a schemathesis check is a global function: run() sets this


@schemathesis.check
def no_internals_in_body(ctx: schemathesis.CheckContext, response: schemathesis.Response,
                         case: Case) -> bool | None:
    """No stack trace or server path in a response, unless the fuzzer sent that text."""
    prepared = response.request
    payload = prepared.body or b""
    sent = " ".join((str(prepared.url), str(dict(prepared.headers)), payload.decode(
        "utf-8", "replace") if isinstance(payload, bytes) else str(payload)))
    found = _internals.found(case.operation.label,
                             response.content.decode("utf-8", "replace"), sent)
    if found is not None:
        raise AssertionError(f"the response body carries {found!r}")
    return None


@dataclass
class FuzzReport:
    """What a run did and found, per operation ("GET /v1/search")."""

    requests: int = 0
    elapsed_s: float = 0.0
    statuses: Counter[int] = field(default_factory=Counter)
    operations: set[str] = field(default_factory=set)
    failures: defaultdict[str, Counter[str]] = field(
        default_factory=lambda: defaultdict(Counter))
    crashes: Counter[str] = field(default_factory=Counter)
    samples: list[str] = field(default_factory=list)

    @property
    def server_errors(self) -> int:
        """5xx answers, and exceptions the app let out (a real server answers those 500)."""
        return sum(n for status, n in self.statuses.items() if status >= 500) + \
            sum(self.crashes.values())

    @property
    def mismatched(self) -> list[str]:
        """Operations whose answers or validation disagree with what they declare."""
        return sorted(op for op, checks in self.failures.items()
                      if set(checks) & MISMATCH_CHECKS)

    def failed(self, checks: tuple[str, ...]) -> dict[tuple[str, str], int]:
        """(operation, check) -> failures, for the given checks."""
        return {(op, check): n for op, counted in self.failures.items()
                for check, n in counted.items() if check in checks}

    def summary(self) -> str:
        lines = [f"{self.requests} requests to {len(self.operations)} operations in "
                 f"{self.elapsed_s:.1f} s; statuses {dict(sorted(self.statuses.items()))}; "
                 f"5xx: {self.server_errors}; mismatched operations: {len(self.mismatched)}"]
        lines += [f"  {op}: {dict(checks)}" for op, checks in sorted(self.failures.items())]
        lines += [f"  {op}: {n} unhandled exception(s)" for op, n in self.crashes.items()]
        return "\n".join(lines + self.samples)


def fuzz_settings(workdir: Path) -> Settings:
    """Quotas out of the way (429 is declared; the fuzzer should reach what lies behind)."""
    return Settings(data_dir=workdir / "data", warm_up=False,
                    retrieval=RetrievalSettings(min_dense_score=0.2),
                    auth=AuthSettings(chat_rate="1000000/minute", login_rate="1000000/minute"))


@contextmanager
def fuzzed_app(workdir: Path) -> Iterator[tuple[FastAPI, Services]]:
    """The app, started, with collection kb and a user who may do everything."""
    app = create_app(fuzz_settings(workdir), embedder=FakeEmbedder(), llm=FakeLLM([REPLY]))
    # schemathesis runs the lifespan once per app, for the schema and every request after
    with asgi.get_client(app):  # type: ignore[arg-type]
        try:
            services: Services = app.state.services
            services.collections.upsert("kb", write_kb(workdir / "kb"), "en")
            services.indexer.sync("kb")
            services.users.create(FUZZER, roles=["admin"], teams=[], password=None)
            yield app, services
        finally:
            asgi.shutdown_lifespans()


class AdminToken:
    """A valid admin token for each case, repaired here (not in the app) when the fuzzer's
    own requests revoked it, disabled its user or changed its roles."""

    def __init__(self, services: Services) -> None:
        self._services = services
        self._token = ""

    def get(self) -> str:
        identity = self._services.identity
        try:
            if self._token and identity.from_token(self._token).is_admin:
                return self._token
        except VraagbaakError:
            pass
        self._services.users.update(FUZZER, roles=["admin"], active=True)
        self._token, _view = identity.tokens.create(
            self._services.users.get(FUZZER).id, name="fuzz")
        return self._token


def config(*, seed: int, max_examples: int, modes: str, phases: tuple[str, ...]
           ) -> schemathesis.Config:
    """No example database and no cache (nothing is written beside the repo), every check
    named above and no other, and an operation goes on after its first failure (so the
    counts are of everything a run finds)."""
    # an invalid body may also be refused for its size before it is read (413): the body
    # limit comes first, whatever the schema
    extra = {"negative_data_rejection":
             '\nexpected-statuses = ["400", "401", "403", "404", "406", "413", "422", "428"]'}
    checks = "\n".join(f"[checks.{name}]\nenabled = true{extra.get(name, '')}"
                       for name in RESPONSE_CHECKS + VALIDATION_CHECKS)
    enabled = "\n".join(f"[phases.{name}]\nenabled = {str(name in phases).lower()}"
                        for name in PHASES)
    return schemathesis.Config.from_str(f"""
seed = {seed}
continue-on-failure = true
[generation]
mode = "{modes}"
max-examples = {max_examples}
database = "none"
[cache]
enabled = false
[checks]
enabled = false
{checks}
{enabled}
""")


def run(workdir: Path, *, seed: int, max_examples: int, modes: str = "all",
        phases: tuple[str, ...] = ("examples", "coverage", "fuzzing")) -> FuzzReport:
    """Fuzz every operation of a fresh app in ``workdir``."""
    _internals.markers, _internals.sent = internals(workdir), set()
    report = FuzzReport()
    started = time.perf_counter()
    # hypothesis keeps caches (constants it read from the code) under .hypothesis/ in the
    # working directory: in the run's own folder instead, never beside the repo
    set_hypothesis_home_dir(workdir / "hypothesis")
    try:
        _fuzz(workdir, report, seed=seed, max_examples=max_examples, modes=modes,
              phases=phases)
    finally:
        set_hypothesis_home_dir(None)
    report.elapsed_s = time.perf_counter() - started
    return report


def _fuzz(workdir: Path, report: FuzzReport, *, seed: int, max_examples: int, modes: str,
          phases: tuple[str, ...]) -> None:
    with fuzzed_app(workdir) as (app, services):
        schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config(
            seed=seed, max_examples=max_examples, modes=modes, phases=phases))
        token = AdminToken(services)

        @schema.auth(refresh_interval=None, retry_on=[])
        class Bearer:
            def get(self, case: Case, ctx: schemathesis.AuthContext) -> str:
                return token.get()

            def set(self, case: Case, data: str,
                    ctx: schemathesis.AuthContext) -> None:
                case.headers["Authorization"] = f"Bearer {data}"

        for event in from_schema(schema).execute():
            if isinstance(event, events.ScenarioFinished):
                _record(report, event.recorder)
            elif isinstance(event, events.NonFatalError):
                # in process, an exception the app does not handle surfaces here: a 500
                report.crashes[event.label] += 1
                _sample(report, f"- {event.label}: unhandled {type(event.value).__name__}: "
                        f"{event.value}")
            elif isinstance(event, events.FatalError):
                raise RuntimeError("the fuzzing run stopped") from event.exception


def _record(report: FuzzReport, recorder: ScenarioRecorder) -> None:
    for interaction in recorder.interactions.values():
        report.requests += 1
        if interaction.response is not None:
            report.statuses[interaction.response.status_code] += 1
    for node in recorder.cases.values():
        report.operations.add(node.value.operation.label)
    for case_id, checks in recorder.checks.items():
        # a stateful scenario spans operations: each failure counts for its own request's
        operation = recorder.cases[case_id].value.operation.label \
            if case_id in recorder.cases else recorder.label
        for check in checks:
            if check.status.name != "FAILURE":
                continue
            report.failures[operation][check.name] += 1
            info = check.failure_info
            if info is None or report.failures[operation][check.name] > 1:
                continue  # the first of each kind is described
            answered = recorder.interactions.get(case_id)
            answer = ""
            if answered is not None and answered.response is not None:
                body = (answered.response.content or b"")[:300]
                answer = f"\n  -> {answered.response.status_code} {body!r}"
            _sample(report, f"- {operation} [{check.name}] {info.failure.title}: "
                    f"{info.failure.message.strip()[:600]}\n  {info.code_sample}{answer}")


def _sample(report: FuzzReport, text: str) -> None:
    if len(report.samples) < SAMPLES:
        report.samples.append(text)
