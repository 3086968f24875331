"""The long fuzzing run: schemathesis against the app's own ``/openapi.json``, in process.

The same harness as the suite's short run (``tests/app/api/fuzzing.py``, used by
``tests/app/api/test_fuzz.py``), with every phase (examples, coverage, fuzzing and stateful
sequences that follow the links between operations), valid and invalid data, and many more
examples per operation (``--examples``, default 200; ``--quick`` 10). Prints the requests
made, the 5xx (answers and unhandled exceptions), and the operations whose declared schema
and behaviour disagree, with the failed checks and a sample of each.
"""

from __future__ import annotations

from typing import Any

from bench.common import WORK, fresh_dir, parser, print_table, save_results
from tests.app.api.fuzzing import MISMATCH_CHECKS, PHASES, FuzzReport, run


def figures(report: FuzzReport, examples: int) -> dict[str, Any]:
    return {
        "requests": report.requests,
        "operations": len(report.operations),
        "examples_per_operation": examples,
        "wall_s": round(report.elapsed_s, 1),
        "server_errors": report.server_errors,
        "statuses": {str(k): v for k, v in sorted(report.statuses.items())},
        "mismatched_operations": report.mismatched,
        "failures": {op: dict(checks) for op, checks in sorted(report.failures.items())},
        "crashes": dict(report.crashes),
    }


def main() -> None:
    p = parser(__doc__ or "")
    p.add_argument("--examples", type=int, default=None,
                   help="examples per operation and phase (default 200; --quick 10)")
    args = p.parse_args()
    examples = args.examples or (10 if args.quick else 200)
    work = fresh_dir(WORK / "fuzz")
    report = run(work, seed=args.seed, max_examples=examples, phases=PHASES)
    found = figures(report, examples)
    print_table("fuzzing the API against its own schema", [{
        "requests": found["requests"], "operations": found["operations"],
        "examples/op": examples, "wall_s": found["wall_s"], "5xx": found["server_errors"],
        "mismatched ops": len(report.mismatched)}])
    print_table("statuses", [{"status": int(k), "responses": v}
                             for k, v in found["statuses"].items()])
    print_table("failed checks per operation", [
        {"operation": op, "check": check, "failures": n,
         "kind": "schema mismatch" if check in MISMATCH_CHECKS else "behaviour"}
        for op, checks in sorted(report.failures.items()) for check, n in sorted(checks.items())])
    if report.samples:
        print("\n== a sample of each failure ==")
        print("\n".join(report.samples))
    save_results("fuzz", found, quick=args.quick, seed=args.seed)


if __name__ == "__main__":
    main()
