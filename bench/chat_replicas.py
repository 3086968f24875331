"""Chat under load in the production shape: ``--clients`` concurrent chat clients (default 32;
``--quick`` 8) for ``--duration`` seconds (default 300; ``--quick`` 30) against two real
``vraagbaak serve`` replicas on one PostgreSQL database, sharing one inference server
(``python -m models.inference_server``, SmolLM2 on both cores).

Each client is a separate user with its own token (so the chat rate limit is not what is
measured: it is lifted) and loops: ``POST /v1/chat`` with the next question of the demo set,
alternating replicas; a 503 is expected once every replica's LLM queue is full
(``llm.queue_size`` waiting + one generating per replica) and must carry ``Retry-After``, which
the client then honours. Reported: requests by status, any other 5xx (the target is zero), 503s
without Retry-After, and for the answered requests the server's own figures (``latency_ms``:
queue wait and time to first token, both from the request's start in the replica) plus the
client's wall time, p50/p95.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from app.core.db import create_scratch_database, drop_scratch_database
from app.core.settings import Settings
from app.wiring import build_services
from bench.common import DEMO_KB, DEMO_SET, WORK, fresh_dir, parser, pct, print_table, save_results
from bench.processes import free_port, start_inference_server, start_vraagbaak
from eval.sets_format import load_set


@dataclass
class Tally:
    statuses: Counter[int] = field(default_factory=Counter)
    by_replica: Counter[str] = field(default_factory=Counter)
    queue_wait_ms: list[float] = field(default_factory=list)
    first_token_ms: list[float] = field(default_factory=list)
    wall_ms: list[float] = field(default_factory=list)
    refused: int = 0
    no_retry_after: int = 0
    transport_errors: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def seed(data: Path, database_url: str, clients: int) -> list[str]:
    """Index the demo KB once (real MiniLM) and make one agent with a token per client."""
    services = build_services(Settings(data_dir=data, database_url=database_url,
                                       warm_up=False))
    try:
        services.collections.upsert("demo", DEMO_KB, "en")
        services.indexer.sync("demo")
        services.access.set_grants("demo", everyone=True)
        tokens = []
        for i in range(clients):
            services.users.create(f"agent{i:02d}", roles=["agent"])
            token, _view = services.identity.tokens.create(
                services.users.get(f"agent{i:02d}").id, name="bench")
            tokens.append(token)
        return tokens
    finally:
        services.close()


def client(urls: list[str], token: str, questions: list[str], deadline: float, offset: int,
           tally: Tally) -> None:
    turns = itertools.count(offset)
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=300) as http:
        while time.monotonic() < deadline:
            n = next(turns)
            url = urls[n % len(urls)]
            started = time.perf_counter()
            try:
                got = http.post(f"{url}/v1/chat", json={
                    "question": questions[n % len(questions)], "collections": ["demo"]})
            except httpx.HTTPError:
                with tally.lock:
                    tally.transport_errors += 1
                time.sleep(1)
                continue
            wall = (time.perf_counter() - started) * 1000
            retry_after = got.headers.get("Retry-After")
            with tally.lock:
                tally.statuses[got.status_code] += 1
                if got.status_code == 200:
                    body: dict[str, Any] = got.json()
                    figures = body.get("latency_ms", {})
                    tally.by_replica[url] += 1
                    tally.wall_ms.append(wall)
                    tally.refused += bool(body.get("refused"))
                    if "queue_wait" in figures:
                        tally.queue_wait_ms.append(float(figures["queue_wait"]))
                    if "first_token" in figures:
                        tally.first_token_ms.append(float(figures["first_token"]))
                elif got.status_code == 503 and not retry_after:
                    tally.no_retry_after += 1
            if got.status_code == 503:
                time.sleep(float(retry_after) if retry_after else 1.0)
            elif got.status_code != 200:
                time.sleep(1.0)


def p50_p95(values: list[float]) -> str:
    return f"{pct(values, 50):.0f} / {pct(values, 95):.0f}" if values else "-"


def main() -> None:
    p = parser(__doc__ or "")
    p.add_argument("--clients", type=int, default=None, help="concurrent clients (32)")
    p.add_argument("--duration", type=float, default=None, help="seconds of load (300)")
    args = p.parse_args()
    clients = args.clients or (8 if args.quick else 32)
    duration = args.duration or (30.0 if args.quick else 300.0)
    work = fresh_dir(WORK / "chat-replicas")
    database_url, name = create_scratch_database()
    procs = []
    try:
        print(f"seeding: demo KB, {clients} agents ...", flush=True)
        tokens = seed(work / "data", database_url, clients)
        llm_port = free_port()
        threads = os.cpu_count() or 2
        procs.append(start_inference_server(llm_port, work / "llm.log", threads=threads))
        settings = Settings()
        env = {"VRAAGBAAK_DATABASE_URL": database_url, "VRAAGBAAK_DATA_DIR": str(work / "data"),
               "VRAAGBAAK_LLM__BACKEND": "openai",
               "VRAAGBAAK_LLM__BASE_URL": f"http://127.0.0.1:{llm_port}/v1",
               "VRAAGBAAK_LLM__MODEL": "smollm2", "VRAAGBAAK_AUTH__CHAT_RATE": "10000/minute"}
        urls = []
        for replica in ("a", "b"):
            port = free_port()
            procs.append(start_vraagbaak(port, work / f"serve-{replica}.log", env))
            urls.append(f"http://127.0.0.1:{port}")
        questions = [q.question for q in load_set(DEMO_SET) if not q.must_refuse]
        tally = Tally()
        print(f"{clients} clients for {duration:.0f} s against {len(urls)} replicas ...",
              flush=True)
        started = time.monotonic()
        deadline = started + duration
        workers = [threading.Thread(target=client, args=(urls, tokens[i], questions, deadline,
                                                         i, tally)) for i in range(clients)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        elapsed = time.monotonic() - started
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=60)
        drop_scratch_database(name)
    other_5xx = sum(n for code, n in tally.statuses.items() if code >= 500 and code != 503)
    answered = tally.statuses[200]
    summary = {
        "clients": clients, "duration_s": round(elapsed), "replicas": len(urls),
        "queue_bound_per_replica": settings.llm.queue_size,
        "requests": sum(tally.statuses.values()), "answered_200": answered,
        "shed_503": tally.statuses[503], "other_5xx": other_5xx,
        "503_without_retry_after": tally.no_retry_after,
        "other_4xx": sum(n for code, n in tally.statuses.items() if 400 <= code < 500),
        "transport_errors": tally.transport_errors, "refused": tally.refused,
        "answers_per_min": round(answered / elapsed * 60, 1),
        "queue_wait_p50_p95_ms": p50_p95(tally.queue_wait_ms),
        "first_token_p50_p95_ms": p50_p95(tally.first_token_ms),
        "client_wall_p50_p95_ms": p50_p95(tally.wall_ms),
        "answered_by_replica": "/".join(str(tally.by_replica[u]) for u in urls),
    }
    print_table("chat under load: two replicas, one inference server", [summary])
    print_table("targets", [{"zero_other_5xx": other_5xx == 0,
                             "every_503_has_retry_after": tally.no_retry_after == 0,
                             "no_transport_errors": tally.transport_errors == 0}])
    save_results("chat_replicas", {"summary": summary, "statuses": dict(tally.statuses),
                                   "queue_wait_ms": tally.queue_wait_ms,
                                   "first_token_ms": tally.first_token_ms},
                 quick=args.quick, seed=args.seed)


if __name__ == "__main__":
    main()
