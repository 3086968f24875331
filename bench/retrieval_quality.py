"""Retrieval quality: BM25 alone, dense alone and hybrid, plus a small grid of fusion settings.

Sets: eval/sets/demo.jsonl over demo/kb; the public sets in ../shared/eval (scifact: all 300
claims; cmu_wiki_qa: a fixed seeded sample of ``--sample`` questions, default 300), each
imported with ``eval.public_sets`` (one .txt per corpus document) and ingested through our own
pipeline (Indexer.sync with MiniLM, default chunking) into bench/.work/rq-<set>/, which later
runs re-sync instead of re-embedding. ``--quick`` uses the demo set plus a few questions per
public set over only their relevant documents and some random distractors (scifact: 20 questions,
200 distractors; cmu_wiki_qa: 4 and 2, its articles are long). Quick figures are inflated: a
smoke test only.

Metrics are document-level (eval.retrieval): hit@1/5, recall@5/10, MRR@10, nDCG@10. Every set
is scored for the three modes at the default RetrievalSettings (bm25 and dense alone switch the
identifier ranking off too), then hybrid for each point of the grid rrf_k {10, 60} x
lexical_weight {0.5, 1, 1.5} x candidates {50, 100} x identifier_weight {0, 1}; the best per set
(by nDCG@10, then MRR@10) and the best mean over sets are printed. Query embeddings are cached,
so ms/q is retrieval without the embedding. Published baselines from SOURCE.md are printed
beside ours.
"""

from __future__ import annotations

import itertools
import json
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.core.settings import Settings
from app.evaluation.retrieval_modes import evaluate, evaluate_modes
from app.knowledge.search import SearchService, SnapshotStore
from app.wiring import build_services
from bench.common import DEMO_KB, DEMO_SET, WORK, parser, print_table, save_results
from eval.public_sets import SHARED_EVAL, import_public_set, published_baselines, relevant_ids
from eval.retrieval import RetrievalMetrics, format_table
from eval.sets_format import EvalQuestion, load_set
from models.pool import cached_pool

QUICK = {"scifact": (20, 200), "cmu_wiki_qa": (4, 2)}  # questions, distractor documents
# rrf_k, lexical_weight, candidates, identifier_weight
GRID = list(itertools.product((10, 60), (0.5, 1.0, 1.5), (50, 100), (0.0, 1.0)))


def label(rrf_k: int, weight: float, cand: int, ident: float) -> str:
    return f"k={rrf_k} lw={weight} cand={cand} idw={ident}"


@dataclass
class Prepared:
    name: str
    root: Path
    collection: str
    questions: list[EvalQuestion]
    baselines: list[dict[str, Any]]


def prepare(name: str, quick: bool, sample: int, seed: int) -> Prepared:
    """The corpus folder and answerable questions of one set."""
    if name == "demo":
        questions = [q for q in load_set(DEMO_SET) if q.answerable]
        return Prepared(name, DEMO_KB, "demo", questions, [])
    source = SHARED_EVAL / name
    work = WORK / f"rq-{name}{'-quick' if quick else ''}"
    doc_ids: set[str] | None = None
    n = None if name == "scifact" else sample
    if quick:
        n, distractors = QUICK.get(name, (10, 20))
        with (source / "corpus.jsonl").open(encoding="utf-8") as fh:
            corpus_ids = [json.loads(line)["id"] for line in fh if line.strip()]
        doc_ids = set(relevant_ids(source, n, seed)) | set(
            random.Random(seed).sample(corpus_ids, min(distractors, len(corpus_ids))))
    imported = import_public_set(source, work, collection=name.replace("_", "-"), sample=n,
                                 seed=seed, doc_ids=doc_ids,
                                 answers_as_key_facts=name != "scifact")
    baselines = [{"system": b.system, "metric": b.metric, "value": b.value}
                 for b in published_baselines(source)]
    return Prepared(name, imported.corpus_dir, name.replace("_", "-"), imported.questions,
                    baselines)


def run_set(prep: Prepared, quick: bool) -> dict[str, Any]:
    data_dir = WORK / f"rq-{prep.name}{'-quick' if quick else ''}" / "data"
    services = build_services(Settings(data_dir=data_dir, embedding_threads=0))  # bulk ingest
    try:
        services.collections.upsert(prep.collection, prep.root, "en")
        started = time.perf_counter()
        report = services.indexer.sync(prep.collection)
        sync_s = time.perf_counter() - started
        pool = cached_pool(services.embedders)
        for q in prep.questions:
            pool.default.embed([q.question])
        store = SnapshotStore(services.settings.index_dir)
        base = services.settings.retrieval
        modes = evaluate_modes(services.sessions, pool, store, prep.questions, base=base)
        grid: dict[str, RetrievalMetrics] = {}
        for rrf_k, weight, cand, ident in GRID:
            settings = base.model_copy(update={"rrf_k": rrf_k, "lexical_weight": weight,
                                               "candidates": cand, "identifier_weight": ident})
            grid[label(rrf_k, weight, cand, ident)] = evaluate(
                SearchService(services.sessions, pool, store, settings), prep.questions)
    finally:
        services.close()
    best = max(grid, key=lambda c: (grid[c].ndcg_at_10, grid[c].mrr_at_10))
    return {"docs": report.files_total - len(report.errors), "chunks": report.chunks_total,
            "chunks_embedded_now": report.chunks_embedded, "sync_s": round(sync_s, 1),
            "questions": len(prep.questions),
            "default_settings": {"rrf_k": base.rrf_k, "lexical_weight": base.lexical_weight,
                                 "dense_weight": base.dense_weight,
                                 "identifier_weight": base.identifier_weight,
                                 "candidates": base.candidates},
            "modes": {m: v.as_dict() for m, v in modes.items()},
            "grid": {c: v.as_dict() for c, v in grid.items()}, "best": best,
            "baselines": prep.baselines, "_tables": (modes, grid)}


def main() -> None:
    p = parser(__doc__ or "")
    p.add_argument("--sets", default="demo,scifact,cmu_wiki_qa", help="comma-separated")
    p.add_argument("--sample", type=int, default=300, help="cmu_wiki_qa questions (300)")
    args = p.parse_args()
    results: dict[str, Any] = {}
    for name in [s.strip() for s in args.sets.split(",") if s.strip()]:
        print(f"\n[{name}] preparing and indexing ...", flush=True)
        prep = prepare(name, args.quick, args.sample, args.seed)
        res = run_set(prep, args.quick)
        modes, grid = res.pop("_tables")
        results[name] = res
        print(f"\n== {name}: {res['questions']} questions, {res['docs']} docs, {res['chunks']} "
              f"chunks (sync {res['sync_s']} s, {res['chunks_embedded_now']} embedded now) ==")
        print(format_table(modes, f"default {res['default_settings']}"))
        if prep.baselines:
            print_table(f"{name}: published / reproduced baselines (SOURCE.md)", prep.baselines)
        ranked = sorted(grid, key=lambda c: (-grid[c].ndcg_at_10, -grid[c].mrr_at_10))
        print(format_table({c: grid[c] for c in ranked}, "hybrid grid (best first)"))
        print(f"best on {name}: {res['best']}")
    if len(results) > 1:
        configs = [label(*point) for point in GRID]
        mean = {c: sum(r["grid"][c]["ndcg_at_10"] for r in results.values()) / len(results)
                for c in configs}
        best_mean = max(configs, key=lambda c: mean[c])
        print_table("best fusion settings", [
            {"set": n, "best": r["best"], "nDCG@10": r["grid"][r["best"]]["ndcg_at_10"],
             "hybrid default nDCG@10": r["modes"]["hybrid"]["ndcg_at_10"]}
            for n, r in results.items()] + [
            {"set": "mean over sets", "best": best_mean, "nDCG@10": round(mean[best_mean], 4),
             "hybrid default nDCG@10": round(sum(r["modes"]["hybrid"]["ndcg_at_10"]
                                                 for r in results.values()) / len(results), 4)}])
        results["_best_mean"] = {"config": best_mean, "mean_ndcg_at_10": round(mean[best_mean], 4)}
    save_results("retrieval_quality", results, quick=args.quick, seed=args.seed)


if __name__ == "__main__":
    main()
