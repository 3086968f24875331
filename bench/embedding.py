"""Embedding precision, side by side: float32 vs bfloat16 batches of real chunks, and a query.

Chunks come from ``--docs`` generated documents (default 300; ``--quick`` 100) through our own
loader and chunker, as ingest embeds them (title and heading prefixed). Each precision embeds
all of them in batches of 32 on all cores (as `vraagbaak ingest` does), then single queries on
one thread (as the server does). Printed: chunks/s, the speed-up, the cosine of every bfloat16
vector to its float32 twin, and query p50/p95. On a CPU without native bfloat16 the
``bfloat16`` row is oneDNN's emulation, which ``precision="auto"`` would not pick.
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np

from bench.common import WORK, ms_since, parser, pct, print_table, save_results
from bench.corpus import write_corpus
from ingest.chunking import chunk_sections, embedding_text
from ingest.loaders import DocumentLoader
from models.embedder import Precision, SentenceTransformerEmbedder, native_bfloat16


def chunk_texts(n_docs: int, seed: int) -> tuple[list[str], list[str]]:
    root = WORK / f"embedding-corpus-{n_docs}-{seed}"
    docs = write_corpus(root, n_docs, seed)
    texts: list[str] = []
    with DocumentLoader() as loader:
        for d in docs:
            doc = loader.load(root / d.path)
            texts += [embedding_text(doc.title, c.heading, c.text)
                      for c in chunk_sections(doc.sections, collection="bench", path=d.path,
                                              title=doc.title)]
    return texts, [d.question for d in docs]


def measure(precision: Precision, texts: list[str], queries: list[str]) -> dict[str, Any]:
    # torch's thread count is per process: set it for each phase, not only the first
    bulk = SentenceTransformerEmbedder("all-MiniLM-L6-v2", threads=os.cpu_count() or 1,
                                       precision=precision)
    bulk.embed(texts[:64])  # load and warm up
    started = time.perf_counter()
    vectors = bulk.embed(texts)
    seconds = time.perf_counter() - started
    one = SentenceTransformerEmbedder("all-MiniLM-L6-v2", threads=1, precision=precision)
    one.embed(queries[:1])
    latencies = []
    for query in queries:
        started = time.perf_counter()
        one.embed([query])
        latencies.append(ms_since(started))
    return {"seconds": seconds, "vectors": vectors, "latencies": latencies}


def main() -> None:
    p = parser(__doc__ or "")
    p.add_argument("--docs", type=int, default=None)
    args = p.parse_args()
    texts, queries = chunk_texts(args.docs or (100 if args.quick else 300), args.seed)
    print(f"{len(texts)} chunks, {len(queries)} queries; native bfloat16: {native_bfloat16()}",
          flush=True)
    runs = {precision: measure(precision, texts, queries)
            for precision in ("float32", "bfloat16")}
    base = runs["float32"]
    rows = []
    for precision, r in runs.items():
        cos = (r["vectors"] * base["vectors"]).sum(axis=1)
        rows.append({"precision": precision, "chunks": len(texts),
                     "chunks/s": round(len(texts) / r["seconds"], 1),
                     "speed-up": round(base["seconds"] / r["seconds"], 2),
                     "cosine_min": f"{float(cos.min()):.6f}",
                     "cosine_mean": f"{float(np.mean(cos)):.6f}",
                     "query_p50_ms (single text: float32)": round(pct(r["latencies"], 50), 1),
                     "query_p95_ms": round(pct(r["latencies"], 95), 1)})
    print_table("batch embedding by precision (MiniLM, batch 32, all cores)", rows)
    save_results("embedding", {"rows": rows, "native_bfloat16": native_bfloat16()},
                 quick=args.quick, seed=args.seed)


if __name__ == "__main__":
    main()
