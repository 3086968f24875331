"""What the adoption figures cost over a year of a 250-person company's questions.

For each backend (SQLite in a fresh directory, and PostgreSQL in a scratch database dropped
afterwards), the app as ``vraagbaak serve`` builds it gets ``--answers`` stored answers
(default 1,000,000; ``--quick`` 20,000) from 250 people in 10 teams over the past year, with
proportional feedback (1 in 5 answers), customer reply drafts (1 in 20) and a pulse answer
per person every four weeks, all written with bulk inserts; then statistics are refreshed (as
autovacuum / ``ANALYZE`` would) and a baseline of four weeks half a year ago is chosen.
Timed, ``--requests`` times each (default 20) through HTTP with a manager's token: the
overview (baseline -> the last 4 weeks) and the breakdowns by team, role and collection.
p50/p95 per endpoint; the target is p95 < 500 ms on both backends. The first call rolls the
whole year up into the weekly rollups (``app.analytics.rollups``) and is timed on its own;
the timed calls read the rollups (the first request of a new week rolls the week before up,
about 19,000 answers at this rate: ``new_week_call_s`` times that).
"""

from __future__ import annotations

import json
import random
import time
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import JSON, insert, text

from app.analytics.tables import RollupState
from app.answering.tables import Answer
from app.core.db import create_scratch_database, drop_scratch_database, postgres_reachable
from app.core.settings import Settings
from app.feedback.tables import AnswerFeedback
from app.main import create_app
from app.pulse.tables import NpsResponse
from app.review.tables import Draft
from app.wiring import Services
from bench.common import WORK, fresh_dir, parser, print_table, save_results, timed, warn_if_busy
from models.fakes import FakeEmbedder, FakeLLM
from tests.access import bearer, make_user

PEOPLE, TEAMS, BATCH = 250, 10, 20_000
COLLECTIONS = [[f"kb-{i}"] for i in range(8)] + [["kb-0", "kb-1"], ["kb-2", "kb-5"]]
STATES = ["approved"] * 6 + ["rejected", "changes_requested", "pending", "in_review"]
ENDPOINTS = {"overview": "/v1/analytics/overview",
             "breakdown by team": "/v1/analytics/breakdown?by=team",
             "breakdown by role": "/v1/analytics/breakdown?by=role",
             "breakdown by collection": "/v1/analytics/breakdown?by=collection"}


def people(services: Services) -> list[int]:
    """250 people in 10 teams: agents, one in nine a reviewer too."""
    for t in range(TEAMS):
        services.users.create_team(f"team-{t}")
    roles = [["agent"]] * 8 + [["agent", "reviewer"]]
    for i in range(PEOPLE):
        services.users.create(f"p{i:03d}", roles=roles[i % len(roles)],
                              teams=[f"team-{i % TEAMS}"])
    return [services.users.get(f"p{i:03d}").id for i in range(PEOPLE)]


def bulk(conn: Any, table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows``: PostgreSQL's COPY (JSON columns as their text), else executemany."""
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        conn.execute(insert(table), rows)
        return
    columns = list(rows[0])
    as_json = {c.name for c in table.__table__.columns if isinstance(c.type, JSON)}
    cursor = conn.connection.driver_connection.cursor()
    with cursor.copy(f"COPY {table.__tablename__} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([json.dumps(row[c]) if c in as_json else row[c] for c in columns])


def fill(services: Services, n: int, users: list[int], rng: random.Random) -> dict[str, int]:
    """Bulk-insert ``n`` answers and their proportional feedback, drafts and pulse rows."""
    now = datetime.now(UTC)
    year = 365 * 24 * 3600
    counts = {"answers": 0, "feedback": 0, "drafts": 0, "pulse": 0}
    with services.engine.begin() as conn:
        for start in range(0, n, BATCH):
            answers, feedback, drafts = [], [], []
            for i in range(start, min(n, start + BATCH)):
                answer_id = f"{i:032x}"
                user = rng.choice(users)
                created = now - timedelta(seconds=rng.randrange(year))
                collections = rng.choice(COLLECTIONS)
                answers.append({
                    "id": answer_id, "created_at": created, "channel": "chat",
                    "user_id": user, "question": f"question {i}?", "collections": collections,
                    "retrieved": [], "prompt_id": "answer", "prompt_version": 1,
                    "model_id": "smollm2", "snapshot_ids": {}, "answer": "An answer [1].",
                    "generated": "", "citations": [], "sentences": [],
                    "refused": rng.random() < 0.1, "latency_ms": {}, "total_ms": 0.0})
                if i % 5 == 0:
                    feedback.append({
                        "answer_id": answer_id, "user_id": user,
                        "vote": "up" if rng.random() < 0.7 else "down", "reasons": [],
                        "comment": "", "created_at": created, "updated_at": created,
                        "outcome": rng.choice(["solved", "needs_person", None])})
                if i % 20 == 0:
                    state = rng.choice(STATES)
                    decided = state in ("approved", "rejected")
                    drafts.append({
                        "id": answer_id, "created_at": created, "submitted_at": created,
                        "author_id": user, "author_teams": [], "answer_id": answer_id,
                        "collections": collections, "question": f"question {i}?",
                        "customer": {}, "ticket_id": "", "tone": "friendly",
                        "prompt": "customer_reply@1", "model_id": "smollm2", "refused": False,
                        "generated_text": "Dear customer,", "text": "Dear customer,",
                        "final_text": "Dear customer," if decided else None,
                        "edit_distance": rng.choice([0.0, 0.0, 0.2]) if decided else None,
                        "state": state, "scores": None, "comment": "",
                        "decided_at": created + timedelta(minutes=rng.randint(2, 600))
                        if decided else None})
            bulk(conn, Answer, answers)
            bulk(conn, AnswerFeedback, feedback)
            bulk(conn, Draft, drafts)
            counts["answers"] += len(answers)
            counts["feedback"] += len(feedback)
            counts["drafts"] += len(drafts)
        pulse = [{"user_id": u, "asked_at": now - timedelta(weeks=w, hours=rng.randrange(600)),
                  "score": rng.choice([None, *range(11)])} for u in users for w in range(0, 52, 4)]
        bulk(conn, NpsResponse, pulse)
        counts["pulse"] = len(pulse)
    return counts


def refresh_statistics(services: Services) -> None:
    """What autovacuum (PostgreSQL) or ``PRAGMA optimize`` (SQLite) does after a bulk load."""
    if services.engine.dialect.name == "postgresql":
        with services.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text("VACUUM ANALYZE"))
    else:
        with services.engine.begin() as c:
            c.execute(text("ANALYZE"))


def run(backend: str, n: int, requests: int, seed: int) -> dict[str, Any]:
    url, scratch = create_scratch_database() if backend == "postgres" else ("", "")
    data = fresh_dir(WORK / "analytics")
    settings = Settings(data_dir=Path(data), database_url=url, warm_up=False)
    try:
        with TestClient(create_app(settings, embedder=FakeEmbedder(), llm=FakeLLM())) as client:
            services: Services = client.app.state.services  # type: ignore[attr-defined]
            started = time.perf_counter()
            users = people(services)
            counts = fill(services, n, users, random.Random(seed))
            refresh_statistics(services)
            fill_s = round(time.perf_counter() - started, 1)
            print(f"{backend}: {counts} written in {fill_s} s", flush=True)
            admin = bearer(make_user(services, "ada", ["admin"]))
            manager = bearer(make_user(services, "meg", ["manager"]))
            today = datetime.now(UTC).date()
            base = today - timedelta(weeks=26)
            client.put("/v1/analytics/baseline", headers=admin, json={
                "start": base.isoformat(),
                "end": (base + timedelta(weeks=4) - timedelta(days=1)).isoformat()}
                       ).raise_for_status()

            def call(path: str) -> None:
                client.get(path, headers=manager).raise_for_status()

            started = time.perf_counter()
            call(ENDPOINTS["overview"])  # the first call rolls the whole year up (once)
            first_s = round(time.perf_counter() - started, 1)
            print(f"{backend}: first call (rolls up {n} answers) {first_s} s", flush=True)
            rows: list[dict[str, Any]] = []
            for name, path in ENDPOINTS.items():
                call(path)  # warm: the first call pays for the plan and the page cache
                rows.append({"backend": backend, "endpoint": name} | timed(
                    requests, partial(call, path), digits=1))
            # a new week begins: the first request rolls the week that ended up
            with services.sessions() as session:
                state = session.get(RollupState, 1)
                assert state is not None
                state.complete_until -= timedelta(weeks=1)
                session.commit()
            started = time.perf_counter()
            call(ENDPOINTS["overview"])
            week_s = round(time.perf_counter() - started, 2)
            print(f"{backend}: first call of a new week {week_s} s", flush=True)
            return {"backend": backend, "fill_s": fill_s, "first_call_s": first_s,
                    "new_week_call_s": week_s, **counts, "rows": rows}
    finally:
        if scratch:
            drop_scratch_database(scratch)


def main() -> None:
    p = parser(__doc__ or "")
    p.add_argument("--answers", type=int, default=None)
    p.add_argument("--requests", type=int, default=20)
    p.add_argument("--backends", default="sqlite,postgres")
    args = p.parse_args()
    n = args.answers or (20_000 if args.quick else 1_000_000)
    warn_if_busy()
    results = []
    for backend in args.backends.split(","):
        if backend == "postgres" and not postgres_reachable():
            print("PostgreSQL is not reachable on 127.0.0.1:5432: skipped", flush=True)
            continue
        results.append(run(backend, n, args.requests, args.seed))
    rows = [r for result in results for r in result["rows"]]
    for row in rows:
        row["under_500ms"] = row["p95_ms"] < 500
    print_table(f"adoption figures over {n} answers", rows)
    print_table("fill", [{k: v for k, v in r.items() if k != "rows"} for r in results])
    save_results("analytics", {"answers": n, "rows": rows,
                               "fill": [{k: v for k, v in r.items() if k != "rows"}
                                        for r in results]}, quick=args.quick, seed=args.seed)


if __name__ == "__main__":
    main()
