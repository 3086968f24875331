"""Chat latency with the real models: time-to-first-token, tokens/s, and the refusal path.

Builds the default services (MiniLM + SmolLM2 GGUF through llama.cpp, default settings) on
demo/kb (collection ``demo``, indexed once under bench/.work/chat/ and re-synced), loads both
models first (load times reported apart), then runs the first ``--questions`` answerable
questions of eval/sets/demo.jsonl (default 5; ``--quick`` 2) through AnswerService exactly as
the API does: ``stream`` (retrieval + refusal gate, queued on the LLM worker) -> consume the
tokens -> the grounded, stored answer. Figures per question come from the TokenStream
timestamps: TTFT from the start of ``prepare`` and from the start of generation
(prompt evaluation), decode tokens/s after the first token, and total time including grounding.
The refusal path runs the set's must-refuse questions (3; ``--quick`` 1); a refusal never calls
the LLM, so its latency is retrieval + bookkeeping.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from app.core.principal import Principal
from app.core.settings import Settings
from app.wiring import build_services
from bench.common import (
    DEMO_KB,
    DEMO_SET,
    WORK,
    parser,
    pct,
    peak_rss_mb,
    print_table,
    save_results,
)
from eval.sets_format import load_set
from models.llm import LlamaCppLLM


def ask(services: Any, question: str) -> dict[str, Any]:
    answering = services.answers.stream(question, ["demo"], allowed={"demo"},
                                        asker=Principal.operator())
    record = answering.result()
    prepared, stream = answering.prepared, answering.tokens
    total_ms = (time.perf_counter() - prepared.started) * 1000
    row: dict[str, Any] = {"question": question[:48], "refused": prepared.refused,
                           "retrieval_ms": round(prepared.retrieval_ms, 1)}
    if stream is not None and stream.first_token_at is not None and stream.started_at:
        decode_s = (stream.finished_at or stream.first_token_at) - stream.first_token_at
        row |= {"ttft_ms": round((stream.first_token_at - prepared.started) * 1000, 1),
                "prompt_eval_ms": round((stream.first_token_at - stream.started_at) * 1000, 1),
                "tokens": stream.token_count,
                "tokens/s": round((stream.token_count - 1) / decode_s, 1) if decode_s else None}
    else:
        row |= {"ttft_ms": None, "prompt_eval_ms": None, "tokens": 0, "tokens/s": None}
    row |= {"total_ms": round(total_ms, 1), "citations": len(record.citations)}
    return row


def main() -> None:
    p = parser(__doc__ or "")
    p.add_argument("--questions", type=int, default=None, help="answerable questions (5)")
    args = p.parse_args()
    n_answer = args.questions or (2 if args.quick else 5)
    n_refuse = 1 if args.quick else 3
    questions = load_set(DEMO_SET)
    answerable = [q.question for q in questions if q.answerable][:n_answer]
    refusals = [q.question for q in questions if q.must_refuse][:n_refuse]

    settings = Settings(data_dir=WORK / "chat" / "data")
    services = build_services(settings)
    started = time.perf_counter()
    services.embedder.embed(["warm up"])
    embed_load_s = time.perf_counter() - started
    started = time.perf_counter()
    if isinstance(services.worker.llm, LlamaCppLLM):
        services.worker.llm.load()
    llm_load_s = time.perf_counter() - started
    services.collections.upsert("demo", Path(DEMO_KB), "en")
    started = time.perf_counter()
    report = services.indexer.sync("demo")
    sync_s = time.perf_counter() - started
    try:
        answered = [ask(services, q) for q in answerable]
        refused = [ask(services, q) for q in refusals]
    finally:
        services.close()

    print_table(f"answers ({services.worker.llm.model_id}, "
                f"max_answer_tokens={settings.llm.max_answer_tokens}, "
                f"threads={settings.llm.threads})", answered)
    print_table("refusal path (must-refuse questions)", refused)
    generated = [r for r in answered if r["ttft_ms"] is not None]
    summary = {
        "questions": len(answered),
        "generated": len(generated),
        "ttft_p50_ms": round(pct([r["ttft_ms"] for r in generated], 50), 1),
        "ttft_max_ms": max((r["ttft_ms"] for r in generated), default=None),
        "tokens_per_s_mean": round(sum(r["tokens/s"] or 0 for r in generated)
                                   / len(generated), 1) if generated else None,
        "answer_total_p50_ms": round(pct([r["total_ms"] for r in answered], 50), 1),
        "refusals_refused": f"{sum(r['refused'] for r in refused)}/{len(refused)}",
        "refusal_p50_ms": round(pct([r["total_ms"] for r in refused], 50), 1),
    }
    setup = {"demo_sync_s": round(sync_s, 1), "chunks": report.chunks_total,
             "embedder_load_s": round(embed_load_s, 1), "llm_load_s": round(llm_load_s, 1),
             "peak_rss_mb": round(peak_rss_mb())}
    print_table("chat summary", [summary])
    print_table("setup", [setup])
    save_results("chat", {"answers": answered, "refusals": refused, "summary": summary,
                          "setup": setup}, quick=args.quick, seed=args.seed)


if __name__ == "__main__":
    main()
