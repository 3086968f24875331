"""``vraagbaak eval`` and ``vraagbaak prompts``: evaluation runs and the governed prompt
library from the command line.

Runs started here execute in this process with a progress bar and are stored like API runs.
They act as ``--user`` (an evaluator) or, without it, as the operator; promotion and rollback
are admin actions, so they act as the operator.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from app.cli.access import OPERATOR, services
from app.core.errors import InvalidInput
from app.core.principal import Principal
from app.evaluation.records import EvalRunOverview, UnreadableSet
from app.wiring import Services
from eval.gates import gate_failures, load_baseline
from eval.runner import RunConfig
from eval.sets_format import SetFormatError, load_set

out = Console()
err = Console(stderr=True)
eval_cli = typer.Typer(help="Evaluation: question sets, runs, reports, comparisons.",
                       no_args_is_help=True)
prompts_cli = typer.Typer(help="The prompt library: versions, zones, promotion, rollback.",
                          no_args_is_help=True)
User = Annotated[str | None, typer.Option("--user", "-u", envvar="VRAAGBAAK_USER",
                                          help="Act as this evaluator (default: operator).")]


def _as(s: Services, user: str | None) -> tuple[Principal, frozenset[str]]:
    principal = s.identity.as_user(user) if user else OPERATOR
    if not principal.has("evaluator"):
        raise InvalidInput(f"{principal.username} does not have the evaluator role",
                           code="missing_role")
    return principal, s.access.readable(principal)


def _read(path: Path) -> str:
    """A file's text, or one clear error line."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = "not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else (
            exc.strerror or type(exc).__name__).lower()
        raise InvalidInput(f"cannot read {path}: {reason}", code="unreadable_file") from None


def _summary(run: EvalRunOverview) -> None:
    out.print(f"[bold]run {run.id}[/] {run.status}: set {run.set_name} "
              f"({run.set_hash[:12]}), prompt {run.prompt}, model {run.model_id}")
    if run.message and run.status != "succeeded":
        out.print(f"  {run.message}")
    table = Table("metric", "value")
    for k, v in run.summary.items():
        table.add_row(k, f"{v:.4f}" if isinstance(v, float) else str(v))
    out.print(table)


@eval_cli.command("validate")
def eval_validate(path: Annotated[Path, typer.Argument(help="A JSONL question set.")]) -> None:
    """Check a question set; a malformed line is named with its number."""
    _read(path)
    try:
        questions = load_set(path)
    except SetFormatError as exc:
        raise InvalidInput(str(exc), code="invalid_set") from None
    out.print(f"{path.name}: {len(questions)} questions, "
              f"{sum(q.must_refuse for q in questions)} must be refused")


@eval_cli.command("sets")
def eval_sets() -> None:
    """The question sets runs can use (built-in and uploaded)."""
    with services() as s:
        rows = s.evals.sets()
    for r in rows:
        out.print(f"{r.name} ({r.origin}): " + (r.error if isinstance(r, UnreadableSet) else
                  f"{r.questions} questions, {r.must_refuse} must be refused"))


@eval_cli.command("upload")
def eval_upload(path: Annotated[Path, typer.Argument(help="A JSONL question set.")],
                name: Annotated[str, typer.Option(help="Name for the set.")],
                user: User = None) -> None:
    """Add a question set that runs (and prompt gates) can name."""
    with services() as s:
        evaluator, _ = _as(s, user)
        info = s.evals.upload_set(evaluator, name, _read(path))
    out.print(f"set {info.name}: {info.questions} questions ({info.sha256[:12]})")


@eval_cli.command("import-candidates")
def eval_import_candidates(
    output: Annotated[Path, typer.Option("--output", "-o", help="JSONL file to write.")],
    user: User = None,
) -> None:
    """Write the test cases reviewers made from reviewed drafts as a question set."""
    with services() as s:
        _evaluator, readable = _as(s, user)
        cases = s.review.candidates(readable=readable)
    output.write_text("".join(json.dumps(c.model_dump(exclude_none=True), ensure_ascii=False)
                              + "\n" for c in cases), encoding="utf-8")
    load_set(output)  # they must be a valid set
    out.print(f"{len(cases)} test cases written to {output}")


@eval_cli.command("run")
def eval_run(
    set_name: Annotated[str, typer.Argument(help="Set name (see `vraagbaak eval sets`).")],
    prompt: Annotated[str, typer.Option(help="answer, or answer@3 from any zone.")] = "answer",
    model: Annotated[str | None, typer.Option(help="Another local GGUF (path or name).")] = None,
    k: Annotated[int, typer.Option(min=1, max=20, help="hit@k cut-off, chunks in prompt.")] = 5,
    retrieval_only: Annotated[bool, typer.Option(help="No LLM: fast, for CI.")] = False,
    report: Annotated[Path | None, typer.Option(help="Write the HTML report here.")] = None,
    baseline: Annotated[Path | None, typer.Option(
        help="Fail (exit 1) if the summary misses this stored baseline's bounds.")] = None,
    user: User = None,
) -> None:
    """Run a question set and store the run.

    Examples: vraagbaak eval run demo --prompt answer@2 --report run.html
              vraagbaak eval run demo --retrieval-only --baseline eval/baselines/demo.json
    """
    if baseline is not None:
        _read(baseline)  # a missing baseline fails before the run, not after it
    with services() as s:
        evaluator, readable = _as(s, user)
        if not retrieval_only:
            s.worker.start()
        with Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                      MofNCompleteColumn(), TimeElapsedColumn(), console=err,
                      transient=True) as bar:
            task = bar.add_task(f"evaluating {set_name}", total=None)
            run = s.evals.start(
                evaluator, set_name, RunConfig(prompt=prompt, model=model, k=k,
                                               retrieval_only=retrieval_only),
                readable=readable, wait=True,
                progress=lambda done, total: bar.update(task, completed=done, total=total))
        if report is not None:
            report.write_text(s.evals.report(run.id, readable=readable), encoding="utf-8")
    _summary(run)
    if report is not None:
        out.print(f"report: {report}")
    if run.status != "succeeded":
        raise typer.Exit(1)
    if baseline is not None:
        try:
            bounds = load_baseline(baseline)
        except ValueError as exc:  # json.JSONDecodeError too
            raise InvalidInput(f"{baseline.name}: {exc}", code="invalid_baseline") from None
        misses = gate_failures(bounds, run.summary)
        if misses:
            err.print(f"below the baseline {baseline.name}: " + "; ".join(misses))
            raise typer.Exit(1)
        out.print(f"at or above the baseline {baseline.name}")


@eval_cli.command("list")
def eval_list() -> None:
    """Recent runs."""
    with services() as s:
        rows = s.evals.runs(readable=s.access.readable(OPERATOR))
    table = Table("id", "status", "set", "prompt", "model", "hit@k", "key facts", "created")
    for r in rows:
        sm = r.summary
        table.add_row(r.id, r.status, r.set_name, r.prompt, r.model_id,
                      str(sm.get("hit_at_k", "-")), str(sm.get("key_fact_coverage", "-")),
                      r.created_at[:16])
    out.print(table)


@eval_cli.command("show")
def eval_show(run_id: Annotated[str, typer.Argument()]) -> None:
    """A run's settings and summary."""
    with services() as s:
        _summary(s.evals.overview(run_id, readable=s.access.readable(OPERATOR)))


@eval_cli.command("report")
def eval_report(run_id: Annotated[str, typer.Argument()],
                output: Annotated[Path, typer.Option("--output", "-o")]) -> None:
    """Write a run's self-contained HTML report."""
    with services() as s:
        output.write_text(s.evals.report(run_id, readable=s.access.readable(OPERATOR)),
                          encoding="utf-8")
    out.print(f"report: {output}")


@eval_cli.command("compare")
def eval_compare(a: Annotated[str, typer.Argument(help="Baseline run id.")],
                 b: Annotated[str, typer.Argument(help="Candidate run id.")],
                 output: Annotated[Path | None, typer.Option(
                     "--output", "-o", help="Also write the HTML comparison.")] = None) -> None:
    """Per-question wins and losses of B against A, and which metric differences are beyond
    noise (paired bootstrap)."""
    with services() as s:
        readable = s.access.readable(OPERATOR)
        result = s.evals.compare(a, b, readable=readable)
        if output is not None:
            output.write_text(s.evals.compare_html(a, b, readable=readable), encoding="utf-8")
    table = Table("metric", "A", "B", "B - A", "95% interval", "beyond noise")
    for name, m in result.metrics.items():
        table.add_row(name, f"{m.a:.4f}", f"{m.b:.4f}", f"{m.diff:+.4f}",
                      f"[{m.ci95[0]:+.4f}, {m.ci95[1]:+.4f}]",
                      "yes" if m.significant else "no")
    out.print(table)
    out.print(f"wins for B: {len(result.wins)}, losses: {len(result.losses)}")


# -- prompts -----------------------------------------------------------------------------
@prompts_cli.command("list")
def prompts_list() -> None:
    """Prompt ids, their versions and zones."""
    with services() as s:
        rows = s.prompts.catalogue()
    for p in rows:
        versions = ", ".join(f"{v.version} ({v.zone})" for v in p.versions)
        out.print(f"[bold]{p.id}[/]: production {p.production}; versions {versions}")


@prompts_cli.command("show")
def prompts_show(ref: Annotated[str, typer.Argument(help="answer or answer@2")]) -> None:
    """A version's template, gate and the prompt's promotion history."""
    with services() as s:
        out.print_json(s.prompts.show(ref).model_dump_json())


@prompts_cli.command("new")
def prompts_new(
    prompt_id: Annotated[str, typer.Argument(help="The prompt id, e.g. answer.")],
    from_file: Annotated[Path, typer.Option(
        help="TOML with system, user (and optionally context_item, stop, description, gate).")],
    note: Annotated[str, typer.Option(help="Why this version.")],
    user: User = None,
) -> None:
    """Add a version (exploration zone) from a TOML file like prompts/library/*.toml."""
    try:
        data = tomllib.loads(_read(from_file))
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"{from_file.name} is not valid TOML ({exc})",
                           code="invalid_template") from None
    with services() as s:
        author, _readable = _as(s, user)
        view = s.prompts.new_version(
            author, prompt_id, system=str(data.get("system", "")),
            user=str(data.get("user", "")), context_item=data.get("context_item"),
            stop=data.get("stop"), description=str(data.get("description", "")),
            change_note=note, gate=data.get("gate"))
    out.print(f"added {view.ref} ({view.zone})")


@prompts_cli.command("pilot")
def prompts_pilot(ref: Annotated[str, typer.Argument(help="answer@2")],
                  back: Annotated[bool, typer.Option(
                      "--back", help="Move it back to exploration.")] = False) -> None:
    """Let agents opt into a version (or take it back to exploration)."""
    with services() as s:
        view = s.prompts.set_zone(OPERATOR, ref, "exploration" if back else "pilot")
    out.print(f"{view.ref} is in {view.zone}")


@prompts_cli.command("promote")
def prompts_promote(ref: Annotated[str, typer.Argument(help="answer@2")],
                    run: Annotated[str, typer.Option(help="The eval run that justifies it.")],
                    ) -> None:
    """Make a version the production one, if the run meets its gate (admin approval)."""
    with services() as s:
        gate_set = s.prompts.show(ref).gate.get("set", "")
        view = s.prompts.promote(OPERATOR, ref, s.evals.overview(
            run, readable=s.access.readable(OPERATOR)),
            gate_set_hash=s.evals.current_hash(gate_set))
    out.print(f"{view.ref} is in production")


@prompts_cli.command("rollback")
def prompts_rollback(prompt_id: Annotated[str, typer.Argument(help="answer")]) -> None:
    """Restore the production version from before the last promotion."""
    with services() as s:
        view = s.prompts.rollback(OPERATOR, prompt_id)
    out.print(f"{view.ref} is back in production")
