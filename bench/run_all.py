"""Run every benchmark, one after the other, and print the headline figures side by side.

Each benchmark runs as its own ``python -m bench.<name>`` subprocess (its full tables stream to
the terminal; nothing runs concurrently, the machine has two cores), then its
bench/.work/results-<name>.json is read back for the summary below. ``--quick`` is passed on;
``--only ingest,search`` picks benchmarks. A failing benchmark is reported and the rest still run.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

from bench.common import ROOT, WORK, parser, print_table, save_results, warn_if_busy

BENCHMARKS = ("ingest", "embedding", "search", "chat", "chat_replicas", "retrieval_quality",
              "access", "review",
              "pages", "analytics",
              "kill_loop",
              "ingest_hostile",
              "fuzz")


def headline(name: str, figures: dict[str, Any]) -> list[dict[str, Any]]:
    """The few figures of one benchmark worth seeing next to the others."""
    out: list[dict[str, Any]] = []

    def add(what: str, value: Any, note: str = "") -> None:
        out.append({"benchmark": name, "figure": what, "value": value, "note": note})

    if name == "ingest":
        for r in figures["rows"]:
            tag = f"{r['pipeline']} {r['corpus']}"
            add(f"{tag}: docs/s | chunks/s", f"{r['docs/s']} | {r['chunks/s']}",
                f"{r['docs']} docs, {r['chunks']} chunks, {r['ingest_s']} s")
            add(f"{tag}: top-5 search p50/p95 ms", f"{r['search_p50_ms']} / {r['search_p95_ms']}",
                f"hit@5 {r['hit@5']}, peak RSS {r['peak_rss_mb']} MB")
        for key, value in figures["ratios"].items():
            add(key, value, "< 1: ours faster/smaller")
        add("re-index unchanged (s)", figures["reindex"]["reindex_unchanged_s"], "target < 5 s")
    elif name == "search":
        for r in figures["stages"]:
            add(f"{r['stage'].strip()} p50/p95 ms", f"{r['p50_ms']} / {r['p95_ms']}",
                f"{figures['setup']['chunks']} chunks")
        for r in figures.get("memory", []):
            add(f"snapshot memory, process {r['process']} of {r['processes']}: RSS | private | "
                "PSS (MB)", f"{r['rss_mb']} | {r['private_anon_mb']} | {r['pss_mb']}",
                "file-backed pages are shared")
    elif name == "chat":
        s = figures["summary"]
        add("time to first token p50 (ms)", s["ttft_p50_ms"], f"max {s['ttft_max_ms']}")
        add("decode tokens/s (mean)", s["tokens_per_s_mean"])
        add("answer total p50 (ms)", s["answer_total_p50_ms"])
        add("refusal latency p50 (ms)", s["refusal_p50_ms"], f"refused {s['refusals_refused']}")
    elif name == "chat_replicas":
        s = figures["summary"]
        add("load: answered | shed 503 | other 5xx | 503 without Retry-After",
            f"{s['answered_200']} | {s['shed_503']} | {s['other_5xx']} | "
            f"{s['503_without_retry_after']}",
            f"{s['clients']} clients, {s['duration_s']} s, {s['replicas']} replicas")
        add("load: queue wait p50/p95 ms", s["queue_wait_p50_p95_ms"])
        add("load: time to first token p50/p95 ms", s["first_token_p50_p95_ms"],
            "from the request's start in the replica")
    elif name == "access":
        for r in figures["stages"]:
            add(f"{r['backend']}: {r['stage']} p50/p95 ms", f"{r['p50_ms']} / {r['p95_ms']}")
    elif name == "embedding":
        for r in figures["rows"]:
            add(f"{r['precision']} batch embedding chunks/s", r["chunks/s"],
                f"x{r['speed-up']}, cosine min {r['cosine_min']}")
    elif name == "pages":
        for r in figures["rows"]:
            add(f"page {r['page']} p50/p95 ms", f"{r['p50_ms']} / {r['p95_ms']}",
                f"within 200 ms: {r['within_200ms']}")
    elif name == "review":
        for r in figures["rows"]:
            add(f"{r['call']} p50/p95 ms", f"{r['p50_ms']} / {r['p95_ms']}",
                f"{figures['drafts']} drafts")
    elif name == "analytics":
        for r in figures["rows"]:
            add(f"analytics {r['backend']}: {r['endpoint']} p50/p95 ms",
                f"{r['p50_ms']} / {r['p95_ms']}", f"{figures['answers']} answers, "
                f"target p95 < 500 ms")
    elif name == "kill_loop":
        for backend, r in figures.items():
            add(f"kill -9 loop on {backend}: kills | converged | mismatches",
                f"{r['kills']} | {'yes' if r['converged'] else 'NO'} | {len(r['mismatches'])}",
                ", ".join(f"{k} {v}" for k, v in sorted(r["phases"].items())))
    elif name == "ingest_hostile":
        add("hostile folder ingest: peak RSS of the tree (MB)", figures["peak_tree_rss_mb"],
            f"under {figures['limit_mb']} MB: {figures['under_limit']}, {figures['wall_s']} s")
    elif name == "fuzz":
        add("API fuzzing: requests | 5xx | schema-mismatched operations",
            f"{figures['requests']} | {figures['server_errors']} | "
            f"{len(figures['mismatched_operations'])}",
            f"{figures['operations']} operations, {figures['wall_s']} s")
    elif name == "retrieval_quality":
        for set_name, r in figures.items():
            if set_name.startswith("_"):
                add("best fusion (mean nDCG@10 over sets)", r["config"], str(r["mean_ndcg_at_10"]))
                continue
            m = r["modes"]
            add(f"{set_name}: nDCG@10 bm25 | dense | hybrid",
                " | ".join(f"{m[k]['ndcg_at_10']:.4f}" for k in ("bm25", "dense", "hybrid")),
                f"{r['questions']} q")
            add(f"{set_name}: best fusion", r["best"],
                f"nDCG@10 {r['grid'][r['best']]['ndcg_at_10']:.4f}")
    return out


def main() -> None:
    p = parser(__doc__ or "")
    p.add_argument("--only", default=",".join(BENCHMARKS), help="comma-separated benchmarks")
    args = p.parse_args()
    chosen = [b for b in args.only.split(",") if b]
    unknown = set(chosen) - set(BENCHMARKS)
    if unknown:
        p.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    warn_if_busy()
    flags = ["--seed", str(args.seed)] + (["--quick"] if args.quick else [])
    rows: list[dict[str, Any]] = []
    timings: list[dict[str, Any]] = []
    for name in chosen:
        print(f"\n######## bench.{name} {' '.join(flags)}", flush=True)
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", f"bench.{name}", *flags], cwd=ROOT)
        elapsed = round(time.perf_counter() - started, 1)
        timings.append({"benchmark": name, "exit": done.returncode, "wall_s": elapsed})
        result = WORK / f"results-{name}.json"
        if done.returncode != 0 or not result.is_file():
            rows.append({"benchmark": name, "figure": "FAILED", "value": done.returncode,
                         "note": "see output above"})
            continue
        rows += headline(name, json.loads(result.read_text())["figures"])
    print_table("figures (details above and in bench/.work/results-*.json)", rows)
    print_table("wall time per benchmark", timings)
    save_results("all", {"figures": rows, "timings": timings}, quick=args.quick, seed=args.seed)
    sys.exit(1 if any(t["exit"] for t in timings) else 0)


if __name__ == "__main__":
    main()
