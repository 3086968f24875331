"""Self-contained HTML reports: one page per run and one per comparison of two runs.

No scripts, no external files: inline CSS and SVG bar charts, every value escaped, so a
report can be mailed, archived with a release, or opened from a ticket.
"""

from __future__ import annotations

from html import escape
from typing import Any

RATE_METRICS = ("hit_at_k", "recall_at_k", "mrr_at_10", "ndcg_at_10", "key_fact_coverage",
                "evidence_coverage", "citation_precision", "groundedness", "refusal_accuracy",
                "false_refusal_rate")
STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2rem;color:#1d2733;max-width:1200px}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem}
table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #dde3ea;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f6f9}.meta td{border:none;padding:.1rem .5rem}
.fail{background:#fde8e8;color:#9b1c1c;border-radius:3px;padding:0 .3rem;margin-right:.2rem;
font-size:12px}.ok{color:#1b7a3a}.quote{color:#52606d;font-size:12px}
.sig{font-weight:bold}.win{color:#1b7a3a}.loss{color:#9b1c1c}
"""


def _page(title: str, body: str) -> str:
    return (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{escape(title)}"
            f"</title><style>{STYLE}</style></head><body><h1>{escape(title)}</h1>{body}"
            "</body></html>")


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}"
    return escape(str(value))


def bar_chart(values: dict[str, float | None], *, width: int = 640) -> str:
    """Horizontal bars for metrics in [0, 1]."""
    rows = [(k, v) for k, v in values.items() if v is not None]
    height = 24 * len(rows) + 10
    label_w, bar_w = 170, width - 230
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             'role="img" aria-label="metrics">']
    for i, (name, value) in enumerate(rows):
        y = 5 + i * 24
        w = max(0.0, min(1.0, float(value))) * bar_w
        parts.append(f'<text x="0" y="{y + 15}" font-size="12">{escape(name)}</text>'
                     f'<rect x="{label_w}" y="{y + 3}" width="{bar_w}" height="16" '
                     'fill="#eef2f6"/>'
                     f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="16" '
                     'fill="#3b7dd8"/>'
                     f'<text x="{label_w + bar_w + 6}" y="{y + 15}" font-size="12">'
                     f'{float(value):.3f}</text>')
    parts.append("</svg>")
    return "".join(parts)


def run_html(run: dict[str, Any]) -> str:
    s = run["summary"]
    meta = "".join(f"<tr><td>{escape(k)}</td><td>{_fmt(v)}</td></tr>" for k, v in (
        ("run", run["id"]), ("status", run["status"]), ("set", run["set_name"]),
        ("set sha256", run["set_hash"]), ("prompt", run["prompt"]), ("model", run["model_id"]),
        ("k", run["config"].get("k")), ("retrieval only", run["config"].get("retrieval_only")),
        ("snapshots", ", ".join(f"{c}: {i}" for c, i in run["snapshot_ids"].items())),
        ("by", run["created_by"]), ("created", run["created_at"]),
        ("finished", run.get("finished_at"))))
    summary = "".join(f"<tr><td>{escape(k)}</td><td>{_fmt(v)}</td></tr>" for k, v in s.items())
    rows = []
    for r in run["results"]:
        failed = "".join(f'<span class="fail">{escape(c)}</span>'
                         for c in r.get("failed_checks", [])) or '<span class="ok">ok</span>'
        cites = "".join(f'<div>[{c["n"]}] {escape(str(c["document"]))}'
                        f'<div class="quote">“{escape(str(c.get("quote", "")))}”</div></div>'
                        for c in r.get("citations", []))
        answer = "(refused)" if r.get("refused") else escape(str(r.get("answer", "–")))
        rows.append(f"<tr><td>{escape(r['id'])}</td><td>{escape(r['question'])}</td>"
                    f"<td>{answer}</td><td>{cites}</td><td>{_fmt(r.get('hit_at_k'))}</td>"
                    f"<td>{_fmt(r.get('key_fact_coverage'))}</td>"
                    f"<td>{_fmt(r.get('groundedness'))}</td><td>{failed}</td></tr>")
    chart = bar_chart({k: s.get(k) for k in RATE_METRICS})
    body = (f'<table class="meta">{meta}</table><h2>Summary</h2>{chart}'
            f"<table>{summary}</table><h2>Questions</h2><table><tr><th>id</th>"
            "<th>question</th><th>answer</th><th>citations</th><th>hit@k</th>"
            "<th>key facts</th><th>grounded</th><th>checks</th></tr>"
            f"{''.join(rows)}</table>")
    return _page(f"Evaluation run {run['id'][:12]}: {run['set_name']}, {run['prompt']}", body)


def compare_html(cmp: dict[str, Any]) -> str:
    a, b = cmp["a"], cmp["b"]
    head = (f"<p>A = run {escape(a['id'][:12])} ({escape(a['prompt'])}, "
            f"{escape(a['model_id'])}); B = run {escape(b['id'][:12])} "
            f"({escape(b['prompt'])}, {escape(b['model_id'])}); "
            f"{cmp['questions_compared']} questions"
            + ("" if cmp["same_set"] else " — <b>the sets differ</b>") + "</p>")
    rows = "".join(
        f"<tr><td>{escape(name)}</td><td>{m['questions']}</td><td>{_fmt(m['a'])}</td>"
        f"<td>{_fmt(m['b'])}</td><td class=\"{'sig' if m['significant'] else ''}\">"
        f"{m['diff']:+.3f}</td><td>[{m['ci95'][0]:+.3f}, {m['ci95'][1]:+.3f}]</td>"
        f"<td>{'yes' if m['significant'] else 'no (noise)'}</td></tr>"
        for name, m in cmp["metrics"].items())

    def listing(entries: list[dict[str, Any]], cls: str) -> str:
        return "".join(f'<tr class="{cls}"><td>{escape(e["id"])}</td>'
                       f"<td>{escape(e['question'])}</td><td>{_fmt(e['a'])}</td>"
                       f"<td>{_fmt(e['b'])}</td></tr>" for e in entries) or \
            "<tr><td colspan=4>none</td></tr>"

    body = (head + "<h2>Metrics (B − A, paired bootstrap 95% interval)</h2><table><tr>"
            "<th>metric</th><th>questions</th><th>A</th><th>B</th><th>B − A</th>"
            f"<th>95% interval</th><th>beyond noise</th></tr>{rows}</table>"
            f"<h2>Wins for B ({len(cmp['wins'])})</h2><table><tr><th>id</th><th>question</th>"
            f"<th>A</th><th>B</th></tr>{listing(cmp['wins'], 'win')}</table>"
            f"<h2>Losses for B ({len(cmp['losses'])})</h2><table><tr><th>id</th>"
            f"<th>question</th><th>A</th><th>B</th></tr>{listing(cmp['losses'], 'loss')}"
            "</table>")
    return _page("Comparison of two evaluation runs", body)
