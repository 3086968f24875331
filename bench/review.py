"""What the review queue and its statistics cost as drafts pile up.

A fresh SQLite database gets ``--drafts`` drafts (default 20,000; ``--quick`` 2,000) with
answer-sized texts over 10 collections, most already decided, as a year of a support team's
drafts would be. Then ``--requests`` times (default 20): a reviewer's queue (default view
and pending only) and the statistics grouped by collection and by week, for a reviewer who
may read half the collections. p50/p95 per call.
"""

from __future__ import annotations

import random
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from app.core.principal import Principal
from app.core.settings import Settings
from app.core.tables import utcnow
from app.review.queue import QueueFilter
from app.review.tables import Draft
from app.wiring import build_services
from bench.common import WORK, fresh_dir, parser, print_table, save_results, timed
from models.fakes import FakeEmbedder, FakeLLM

STATES = ["approved"] * 6 + ["rejected", "changes_requested", "pending", "in_review"]
COLLECTIONS = [f"kb-{i}" for i in range(10)]


def seed(services: Any, n: int, rng: random.Random) -> None:
    now = utcnow()
    body = "Dear customer, thank you for your patience. " * 20  # ~900 characters
    with services.sessions() as session:
        for start in range(0, n, 1000):
            rows = []
            for i in range(start, min(n, start + 1000)):
                state = rng.choice(STATES)
                created = now - timedelta(minutes=rng.randint(1, 525_600))
                decided = state in ("approved", "rejected")
                rows.append(Draft(
                    id=f"{i:032x}", created_at=created, submitted_at=created, author_id=1,
                    author_teams=[f"team-{i % 5}"], answer_id=f"{i:032x}",
                    collections=[rng.choice(COLLECTIONS)], question=f"question {i}?",
                    prompt="customer_reply@1", model_id="smollm2", generated_text=body,
                    text=body, final_text=body if decided else None,
                    edit_distance=rng.random() if state == "approved" else None, state=state,
                    first_claimed_at=created + timedelta(minutes=5) if decided else None,
                    decided_at=created + timedelta(minutes=30) if decided else None,
                    decided_by=2 if decided else None,
                    scores={"accuracy": 4, "tone": 5} if decided else None,
                    reason="wrong_facts" if state == "rejected" else None))
            session.add_all(rows)
            session.commit()


def main() -> None:
    p = parser(__doc__ or "")
    p.add_argument("--drafts", type=int, default=None)
    p.add_argument("--requests", type=int, default=20)
    args = p.parse_args()
    n = args.drafts or (2_000 if args.quick else 20_000)
    data = fresh_dir(WORK / "review")
    services = build_services(Settings(data_dir=Path(data), warm_up=False),
                              embedder=FakeEmbedder(), llm=FakeLLM())
    started = time.perf_counter()
    seed(services, n, random.Random(args.seed))
    print(f"{n} drafts written in {time.perf_counter() - started:.1f} s", flush=True)
    reviewer = Principal(user_id=2, username="rita", roles=frozenset({"reviewer"}),
                         teams=frozenset())
    readable = set(COLLECTIONS[:5])
    queue, stats = services.review, services.review_stats
    rows = [
        {"call": "queue (default view)"} | timed(
            args.requests, lambda: queue.queue(reviewer, readable=readable)),
        {"call": "queue (pending only)"} | timed(
            args.requests, lambda: queue.queue(reviewer, readable=readable,
                                               where=QueueFilter(state="pending"))),
        {"call": "stats by collection"} | timed(
            args.requests, lambda: stats.stats("collection", readable=readable)),
        {"call": "stats by week"} | timed(
            args.requests, lambda: stats.stats("week", readable=readable)),
    ]
    services.close()
    print_table(f"review queue and statistics at {n} drafts (SQLite)", rows)
    save_results("review", {"drafts": n, "rows": rows}, quick=args.quick, seed=args.seed)


if __name__ == "__main__":
    main()
