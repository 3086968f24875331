"""What every web page costs the server at a year's worth of data.

A SQLite database with ``--chunks`` chunks (default 100,000; ``--quick`` 10,000: the
synthetic collection of ``bench.search``) and ``--drafts`` drafts (default 20,000; ``--quick``
2,000: the mix of ``bench.review``), one user who has every role and wrote every draft, and
one stored answer. Then each page is fetched ``--requests`` times (default 20) through the app
in-process (``TestClient``: the server's time, no network) as that signed-in user: p50/p95 in
ms, and whether the p95 is within the 200 ms budget. A page that does not exist yet (404) is
listed as missing, not timed.
"""

from __future__ import annotations

import random
import re
from functools import partial

from fastapi.testclient import TestClient

from app.core.settings import RetrievalSettings, Settings
from app.main import create_app
from bench.common import WORK, parser, print_table, save_results, timed
from bench.review import COLLECTIONS as REVIEW_COLLECTIONS
from bench.review import seed as seed_drafts
from bench.search import COLL, DIM, MODEL, build_index
from models.fakes import FakeEmbedder, FakeLLM

BUDGET_MS = 200.0
PASSWORD = "a benchmark password"


def main() -> None:
    p = parser(__doc__ or "")
    p.add_argument("--chunks", type=int, default=None)
    p.add_argument("--drafts", type=int, default=None)
    p.add_argument("--requests", type=int, default=20)
    args = p.parse_args()
    chunks = args.chunks or (10_000 if args.quick else 100_000)
    drafts = args.drafts or (2_000 if args.quick else 20_000)
    work = WORK / f"pages-{chunks}"
    build_index(work, chunks, args.seed)  # reused when the same size was built before
    # every question retrieves (the synthetic vectors are random): the answer has a citation
    settings = Settings(data_dir=work / "data", warm_up=False,
                        retrieval=RetrievalSettings(min_dense_score=-1.0))
    # the snapshot was made for MiniLM's id and dimension; pages never embed anything
    app = create_app(settings, embedder=FakeEmbedder(DIM, MODEL),
                     llm=FakeLLM(["Reset the password in the self-service portal [1]."]))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        services = app.state.services
        if "bench" not in {u.username for u in services.users.all()}:
            services.users.create("bench", roles=["agent", "reviewer", "admin", "evaluator"],
                                  password=PASSWORD)
            services.access.set_grants(COLL, everyone=True)
            for name in REVIEW_COLLECTIONS:  # the drafts' collections, empty but readable
                services.collections.upsert(name, work, "en")
                services.access.set_grants(name, everyone=True)
            seed_drafts(services, drafts, random.Random(args.seed))
        user = services.identity.as_user("bench")
        answer = services.answers.answer("How do I reset my password?", [COLL],
                                         allowed=services.access.readable(user), asker=user)
        assert answer.citations, "the benchmark needs an answer with a citation"
        signed = client.post("/signin", data={"username": "bench", "password": PASSWORD},
                             follow_redirects=False)
        assert signed.status_code == 303, signed.text
        draft_id = f"{0:032x}"
        paths = ["/signin", "/ask", f"/ask/answers/{answer.answer_id}",
                 f"/ask/answers/{answer.answer_id}/sources/1", "/drafts",
                 f"/drafts/{draft_id}", "/account", "/review",
                 f"/review/drafts/{draft_id}", "/admin", "/admin/users", "/admin/audit",
                 "/eval", "/eval/sets", "/eval/prompts"]
        rows = []
        for path in paths:
            status = client.get(path).status_code
            if status != 200:
                rows.append({"page": path, "status": status, "p50_ms": None, "p95_ms": None,
                             "within_200ms": "missing" if status == 404 else "error"})
                continue
            figures = timed(args.requests, partial(client.get, path))
            rows.append({"page": re.sub(r"[0-9a-f]{32}", "{id}", path), "status": status}
                        | figures | {"within_200ms": figures["p95_ms"] <= BUDGET_MS})
    print_table(f"page server time at {chunks} chunks and {drafts} drafts (SQLite, "
                f"{args.requests} requests each)", rows)
    save_results("pages", {"chunks": chunks, "drafts": drafts, "rows": rows},
                 quick=args.quick, seed=args.seed)


if __name__ == "__main__":
    main()
