"""Ingest throughput: our pipeline vs LlamaIndex's default pipeline, same corpus, same model.

Measures, each pipeline in its own fresh child process (so peak RSS and model loads are its own):

* ours: ``Indexer.sync`` of a new collection (scan, parse, chunk, embed with MiniLM, SQL rows,
  FAISS + BM25 snapshot) -> docs/s and chunks/s; a second sync of the unchanged folder (the
  re-index time, target < 5 s at 10k docs); hybrid top-5 search latency and hit@5 for N
  generated questions; peak RSS (``ru_maxrss``).
* LlamaIndex: ``SimpleDirectoryReader`` -> ``VectorStoreIndex.from_documents`` with
  ``HuggingFaceEmbedding`` on the same local MiniLM directory and ``Settings.llm = None``
  (every other setting default: SentenceSplitter 1024/200 tokens, embed batch 10, in-memory
  SimpleVectorStore) -> the same figures, retriever ``similarity_top_k=5``.

Corpora: demo/kb (ours only: LlamaIndex's default reader needs extra packages for .docx) and a
generated corpus of ``--docs`` support documents (default 10,000; ``--quick`` 200) written once
to bench/.work/. Embedding model load time is reported apart from the ingest time.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from bench.common import (
    DEMO_KB,
    DEMO_SET,
    WORK,
    fresh_dir,
    parser,
    pct,
    peak_rss_mb,
    print_table,
    ratio,
    run_isolated,
    save_results,
)
from bench.corpus import write_corpus
from models.embedder import Precision

Questions = list[tuple[str, list[str]]]


def ours(corpus: str, data_dir: str, questions: Questions, k: int,
         precision: Precision = "auto") -> dict[str, Any]:
    """Our ingest + re-index + retrieval, run inside a child process."""
    from app.core.settings import Settings
    from app.wiring import build_services

    started = time.perf_counter()
    # bulk ingest uses every core, as `vraagbaak ingest` does (the server keeps 1 for queries)
    services = build_services(Settings(data_dir=fresh_dir(Path(data_dir)), embedding_threads=0,
                                       embedding_precision=precision))
    services.embedder.embed(["warm up"])
    load_s = time.perf_counter() - started
    services.collections.upsert("bench", Path(corpus), "en")
    started = time.perf_counter()
    report = services.indexer.sync("bench")
    ingest_s = time.perf_counter() - started
    started = time.perf_counter()
    again = services.indexer.sync("bench")
    reindex_s = time.perf_counter() - started
    latencies, hits = [], 0
    for question, expected in questions:
        started = time.perf_counter()
        result = services.search.search(question, ["bench"], allowed={"bench"}, k=k)
        latencies.append((time.perf_counter() - started) * 1000)
        hits += any(h.document in expected for h in result.hits)
    services.close()
    docs = report.files_total - len(report.errors)
    return {"docs": docs, "chunks": report.chunks_total, "skipped": len(report.errors),
            "model_load_s": load_s, "ingest_s": ingest_s, "reindex_s": reindex_s,
            "reindex_embedded": again.chunks_embedded, "latencies_ms": latencies,
            "hit_at_k": hits / len(questions) if questions else None, "peak_rss_mb": peak_rss_mb()}


def llamaindex(corpus: str, questions: Questions, k: int) -> dict[str, Any]:
    """LlamaIndex's default ingest + retrieval with the same MiniLM, inside a child process."""
    from llama_index.core import Settings as LISettings
    from llama_index.core import SimpleDirectoryReader, VectorStoreIndex
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding

    from models.registry import resolve_embedder

    started = time.perf_counter()
    LISettings.embed_model = HuggingFaceEmbedding(
        model_name=str(resolve_embedder("all-MiniLM-L6-v2")), device="cpu")
    LISettings.llm = None
    LISettings.embed_model.get_text_embedding("warm up")
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    # exclude_hidden=False only because bench/.work/ (a dot directory) holds the corpus
    documents = SimpleDirectoryReader(corpus, recursive=True, exclude_hidden=False).load_data()
    index = VectorStoreIndex.from_documents(documents)
    ingest_s = time.perf_counter() - started
    retriever = index.as_retriever(similarity_top_k=k)
    root = Path(corpus).resolve()
    latencies, hits = [], 0
    for question, expected in questions:
        started = time.perf_counter()
        nodes = retriever.retrieve(question)
        latencies.append((time.perf_counter() - started) * 1000)
        found = {Path(n.node.metadata.get("file_path", "")).resolve().relative_to(root).as_posix()
                 for n in nodes}
        hits += bool(found & set(expected))
    files = {d.metadata.get("file_path") for d in documents}
    return {"docs": len(files), "chunks": len(index.docstore.docs), "skipped": 0,
            "model_load_s": load_s, "ingest_s": ingest_s, "reindex_s": None,
            "reindex_embedded": None, "latencies_ms": latencies,
            "hit_at_k": hits / len(questions) if questions else None, "peak_rss_mb": peak_rss_mb()}


def row(pipeline: str, corpus: str, r: dict[str, Any]) -> dict[str, Any]:
    lat = r["latencies_ms"]
    return {"pipeline": pipeline, "corpus": corpus, "docs": r["docs"], "chunks": r["chunks"],
            "ingest_s": round(r["ingest_s"], 2),
            "docs/s": round(r["docs"] / r["ingest_s"], 1) if r["ingest_s"] else None,
            "chunks/s": round(r["chunks"] / r["ingest_s"], 1) if r["ingest_s"] else None,
            "reindex_s": None if r["reindex_s"] is None else round(r["reindex_s"], 3),
            "search_p50_ms": round(pct(lat, 50), 1), "search_p95_ms": round(pct(lat, 95), 1),
            "hit@5": None if r["hit_at_k"] is None else round(r["hit_at_k"], 4),
            "peak_rss_mb": round(r["peak_rss_mb"]),
            "model_load_s": round(r["model_load_s"], 1)}


def demo_questions() -> Questions:
    from eval.sets_format import load_set

    return [(q.question, list(q.expected_documents)) for q in load_set(DEMO_SET) if q.answerable]


def main() -> None:
    p = parser(__doc__ or "")
    p.add_argument("--docs", type=int, default=None, help="generated corpus size (10000)")
    p.add_argument("--questions", type=int, default=None, help="retrieval questions (100)")
    p.add_argument("--skip-llamaindex", action="store_true")
    p.add_argument("--precision", choices=("auto", "float32", "bfloat16"), default="auto",
                   help="our embedding precision (VRAAGBAAK_EMBEDDING_PRECISION)")
    args = p.parse_args()
    n_docs = args.docs or (200 if args.quick else 10_000)
    n_questions = args.questions or (20 if args.quick else 100)
    k = 5
    work = WORK / "ingest"
    rows: list[dict[str, Any]] = []

    demo = run_isolated(ours, str(DEMO_KB), str(work / "demo-data"), demo_questions(), k,
                        args.precision)
    rows.append(row("ours", "demo/kb", demo))

    print(f"generating {n_docs} documents ...", flush=True)
    corpus = work / f"corpus-{n_docs}-{args.seed}"
    docs = write_corpus(corpus, n_docs, args.seed)
    step = max(1, len(docs) // n_questions)
    questions = [(d.question, [d.path]) for d in docs[::step][:n_questions]]
    label = f"generated-{n_docs}"
    print(f"ours ({args.precision} embedding) on {label} ...", flush=True)
    mine = run_isolated(ours, str(corpus), str(work / "gen-data"), questions, k,
                        args.precision)
    rows.append(row("ours", label, mine))
    theirs = None
    if not args.skip_llamaindex:
        print(f"LlamaIndex on {label} ...", flush=True)
        theirs = run_isolated(llamaindex, str(corpus), questions, k)
        rows.append(row("llamaindex", label, theirs))
    print_table("ingest throughput (embedding model load excluded)", rows)

    ratios: dict[str, Any] = {}
    if theirs is not None:
        a, b = rows[1], rows[2]
        ratios = {"ingest_time_ours/llamaindex": ratio(a["ingest_s"], b["ingest_s"]),
                  "search_p50_ours/llamaindex": ratio(a["search_p50_ms"], b["search_p50_ms"]),
                  "search_p95_ours/llamaindex": ratio(a["search_p95_ms"], b["search_p95_ms"]),
                  "peak_rss_ours/llamaindex": ratio(a["peak_rss_mb"], b["peak_rss_mb"])}
        print_table("ratios (ours / LlamaIndex; < 1 means ours is faster/smaller)", [ratios])
    target = {"reindex_unchanged_s": rows[1]["reindex_s"], "target_s": 5.0,
              "met": rows[1]["reindex_s"] < 5.0, "corpus": label,
              "chunks_re_embedded": mine["reindex_embedded"]}
    print_table("re-index of the unchanged generated corpus", [target])
    save_results("ingest", {"rows": rows, "ratios": ratios, "reindex": target,
                            "questions": len(questions)}, quick=args.quick, seed=args.seed)


if __name__ == "__main__":
    main()
