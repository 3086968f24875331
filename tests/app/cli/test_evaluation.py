"""`vraagbaak eval ...` and `vraagbaak prompts ...` against a data directory from the
environment, the way an operator runs them.

Commands that don't embed a query run unpatched: the real ``build_services`` from the
environment (the real models are only resolved, never loaded). ``eval run`` has to embed every
question, and the real MiniLM would take seconds to load, so those tests swap the builder the
CLI calls for one that passes the fake models; the failure path with a real, unusable embedding
model runs unpatched. Errors go through ``app.cli.main`` (one clean line, exit 1)."""

from __future__ import annotations

import io
import json
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

import app.cli.access
from app.cli.main import cli, main
from app.core.principal import Principal
from app.core.settings import RetrievalSettings, Settings
from app.evaluation.records import QuestionSet
from app.review.drafts import Customer
from app.review.queue import Rating
from app.wiring import Services, build_services
from eval.runner import RunConfig
from eval.sets_format import load_set
from models.fakes import FakeEmbedder, FakeLLM
from tests.access import make_user

# these tests make and promote their own answer@2 (tests/conftest.py)
pytestmark = pytest.mark.usefixtures("one_version_library")

OPERATOR = Principal.operator()
VPN_REPLY = "VPN error NWL-VPN-809 means the device certificate expired [1]."
GOOD = "\n".join(json.dumps(q) for q in (
    {"id": "q-vpn", "question": "What does VPN error NWL-VPN-809 mean?", "collections": ["kb"],
     "expected_documents": ["vpn.md"], "key_facts": ["certificate expired"],
     "must_refuse": False, "tags": []},
    {"id": "q-peru", "question": "capital of Peru?", "collections": ["kb"],
     "expected_documents": [], "key_facts": [], "must_refuse": True, "tags": []})) + "\n"
NO_DOCUMENTS = json.dumps({"id": "q-x", "question": "Where?", "collections": ["kb"],
                           "expected_documents": [], "key_facts": [], "must_refuse": False,
                           "tags": []})
GATE = {"set": "tiny", "min": {"hit_at_k": 1.0, "groundedness": 1.0, "refusal_accuracy": 1.0},
        "max": {"false_refusal_rate": 0.0}}
NEW_VERSION = """system = "Answer from the numbered documents only; cite them like [1]."
user = \"\"\"{context}

Q: {question}\"\"\"
description = "Shorter instructions."

[gate]
set = "tiny"
min = { hit_at_k = 1.0, groundedness = 1.0, refusal_accuracy = 1.0 }
max = { false_refusal_rate = 0.0 }
"""


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "data"
    for key, value in {"VRAAGBAAK_DATA_DIR": str(data), "VRAAGBAAK_WARM_UP": "false",
                       "VRAAGBAAK_RETRIEVAL__MIN_DENSE_SCORE": "0.2",
                       "COLUMNS": "250"}.items():  # rich tables: no truncated columns
        monkeypatch.setenv(key, value)
    for key in ("VRAAGBAAK_DATABASE_URL", "VRAAGBAAK_EMBEDDING_MODEL",
                "VRAAGBAAK_EMBEDDING_BACKEND", "VRAAGBAAK_USER"):
        monkeypatch.delenv(key, raising=False)
    return data


@pytest.fixture
def db(data_dir: Path, kb: Path) -> Iterator[Services]:
    """The database and index the commands use, built with the fake models (kb indexed, set
    tiny uploaded, users eva (evaluator), rita (reviewer) and agent)."""
    built = build_services(Settings(data_dir=data_dir, warm_up=False,
                                    retrieval=RetrievalSettings(min_dense_score=0.2)),
                           embedder=FakeEmbedder(), llm=FakeLLM([VPN_REPLY]))
    built.collections.upsert("kb", kb, "en")
    built.indexer.sync("kb")
    built.access.set_grants("kb", everyone=True)
    for name, role in (("eva", "evaluator"), ("rita", "reviewer"), ("agent", "agent")):
        make_user(built, name, [role])
    built.evals.upload_set(OPERATOR, "tiny", GOOD)
    yield built
    built.close()


@pytest.fixture
def fake_models(monkeypatch: pytest.MonkeyPatch) -> list[FakeLLM]:
    """Make the CLI build its services with the fake models; returns the LLMs it made."""
    made: list[FakeLLM] = []

    def with_fakes(settings: Settings, **_: Any) -> Services:
        made.append(FakeLLM([VPN_REPLY]))
        return build_services(settings, embedder=FakeEmbedder(), llm=made[-1])

    monkeypatch.setattr(app.cli.access, "build_services", with_fakes)
    return made


def ok(*args: str) -> Result:
    result = CliRunner().invoke(cli, list(args))
    assert result.exception is None, (result.output, result.exception)
    assert result.exit_code == 0, result.output
    return result


def fails(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
          *args: str, after_progress: bool = False) -> str:
    """``vraagbaak ARGS`` through the real entry point; it must exit 1 with one clean line on
    stderr, which is returned. ``after_progress``: the command failed inside its progress bar,
    which ends with a newline on stderr when that is not a terminal."""
    monkeypatch.setattr(sys, "argv", ["vraagbaak", *args])
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    with pytest.raises(SystemExit) as exited:
        main()
    err = capsys.readouterr().err
    if after_progress:
        err = err.removeprefix("\n")
    assert exited.value.code == 1, err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    return err


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# -- sets -----------------------------------------------------------------------------------
def test_validate_a_good_set(tmp_path: Path) -> None:
    result = ok("eval", "validate", str(write(tmp_path / "mine.jsonl", GOOD)))
    assert result.stdout.strip() == "mine.jsonl: 2 questions, 1 must be refused"


def test_validate_names_the_bad_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("COLUMNS", "250")
    bad = write(tmp_path / "bad.jsonl", GOOD + NO_DOCUMENTS + "\n")
    err = fails(monkeypatch, capsys, "eval", "validate", str(bad))
    assert err == ("error: bad.jsonl:3: an answerable question needs at least one expected "
                   "document\n")


def test_a_long_error_stays_one_line_on_a_narrow_terminal(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    bad = write(tmp_path / "bad-set.jsonl", GOOD + NO_DOCUMENTS + "\n")
    assert "bad-set.jsonl:3:" in fails(monkeypatch, capsys, "eval", "validate", str(bad))


def test_validate_of_a_missing_file_is_one_clean_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    assert "nope.jsonl" in fails(monkeypatch, capsys, "eval", "validate",
                                 str(tmp_path / "nope.jsonl"))


def test_sets_and_upload(db: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                         capsys: pytest.CaptureFixture[str]) -> None:
    listed = ok("eval", "sets").stdout
    assert "demo (built-in): " in listed
    assert "tiny (uploaded): 2 questions, 1 must be refused" in listed
    assert "mine" not in listed
    uploaded = ok("eval", "upload", str(write(tmp_path / "m.jsonl", GOOD)), "--name", "mine",
                  "--user", "eva")
    digest = {s.name: s.sha256 for s in db.evals.sets() if isinstance(s, QuestionSet)}["mine"]
    assert uploaded.stdout.strip() == f"set mine: 2 questions ({digest[:12]})"
    assert "mine (uploaded): 2 questions" in ok("eval", "sets").stdout
    uploaded_by = [e["actor"] for e in db.audit.entries() if e["action"] == "eval_set_uploaded"]
    assert uploaded_by[-1] == "eva"

    good = str(tmp_path / "m.jsonl")
    assert fails(monkeypatch, capsys, "eval", "upload", good, "--name", "demo") == (
        "error: a set named 'demo' exists; sets are never overwritten, pick another name\n")
    assert fails(monkeypatch, capsys, "eval", "upload", good, "--name", "other", "--user",
                 "agent") == "error: agent does not have the evaluator role\n"
    bad = str(write(tmp_path / "b.jsonl", NO_DOCUMENTS))
    assert "other:1: an answerable question" in fails(monkeypatch, capsys, "eval", "upload",
                                                      bad, "--name", "other")
    assert "other" not in {s.name for s in db.evals.sets()}


# -- runs -----------------------------------------------------------------------------------
def test_retrieval_only_run_prints_the_summary_and_writes_the_report(
        db: Services, fake_models: list[FakeLLM], tmp_path: Path) -> None:
    report = tmp_path / "run.html"
    result = ok("eval", "run", "tiny", "--retrieval-only", "--report", str(report))
    run = db.evals.runs(readable={"kb"})[0]
    assert run.status == "succeeded" and run.config.retrieval_only is True
    assert run.created_by == OPERATOR.actor
    assert f"run {run.id} succeeded: set tiny ({run.set_hash[:12]}), prompt answer@1" \
        in result.stdout
    assert "hit_at_k" in result.stdout and "refusal_accuracy" in result.stdout
    assert "key_fact_coverage" not in result.stdout  # no answers in a retrieval-only run
    assert f"report: {report}" in result.stdout
    page = report.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and run.id[:12] in page
    assert [llm.prompts for llm in fake_models] == [[]]  # the LLM was never asked


def test_full_run_of_an_exploration_version(db: Services, fake_models: list[FakeLLM]) -> None:
    db.prompts.new_version(OPERATOR, "answer", system="EXPLORING", user="{context} {question}")
    result = ok("eval", "run", "tiny", "--prompt", "answer@2", "--user", "eva")
    assert "prompt answer@2, model fake-llm" in result.stdout
    assert "key_fact_coverage" in result.stdout
    run = db.evals.runs(readable={"kb"})[0]
    assert (run.prompt, run.created_by, run.summary["key_fact_coverage"]) == (
        "answer@2", "eva", 1.0)
    assert [len(llm.prompts) for llm in fake_models] == [1]  # Peru was refused unasked
    assert fake_models[0].prompts[0][0]["content"] == "EXPLORING"


def test_run_errors_are_one_clean_line(db: Services, fake_models: list[FakeLLM],
                                       monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert fails(monkeypatch, capsys, "eval", "run", "nope", "--retrieval-only",
                 after_progress=True) == "error: question set 'nope' not found\n"
    assert "answer@7" in fails(monkeypatch, capsys, "eval", "run", "tiny", "--prompt",
                               "answer@7", after_progress=True)
    assert db.evals.runs(readable={"kb"}) == []


def test_run_with_an_unusable_embedding_model_is_one_clean_line(
        db: Services, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    # unpatched: the real builder resolves the model from the environment and stops at once
    monkeypatch.setenv("VRAAGBAAK_EMBEDDING_MODEL", "/nonexistent/embedder")
    err = fails(monkeypatch, capsys, "eval", "run", "tiny", "--retrieval-only")
    assert "'/nonexistent/embedder'" in err
    assert db.evals.runs(readable={"kb"}) == []  # it failed before any run was stored


def test_list_show_report_and_compare(db: Services, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    a = db.evals.start(OPERATOR, "tiny", RunConfig(retrieval_only=True), readable={"kb"},
                       wait=True).id
    b = db.evals.start(OPERATOR, "tiny", RunConfig(), readable={"kb"}, wait=True).id
    listed = ok("eval", "list").stdout
    assert a in listed and b in listed
    assert listed.index(b) < listed.index(a)  # newest first
    shown = ok("eval", "show", b).stdout
    assert f"run {b} succeeded: set tiny" in shown and "model fake-llm" in shown
    assert "key_fact_coverage" in shown
    page = tmp_path / "a.html"
    assert ok("eval", "report", a, "-o", str(page)).stdout.strip() == f"report: {page}"
    assert page.read_text(encoding="utf-8").startswith("<!doctype html>")
    html = tmp_path / "cmp.html"
    compared = ok("eval", "compare", a, b, "-o", str(html)).stdout
    assert "hit_at_k" in compared and "refusal_correct" in compared
    assert "wins for B: 0, losses: 0" in compared
    assert "Comparison of two evaluation runs" in html.read_text(encoding="utf-8")
    assert fails(monkeypatch, capsys, "eval", "show", "nope") == (
        "error: evaluation run not found\n")
    assert not (tmp_path / "none.html").exists()
    fails(monkeypatch, capsys, "eval", "compare", a, "nope", "-o", str(tmp_path / "none.html"))
    assert not (tmp_path / "none.html").exists()


# -- candidates -----------------------------------------------------------------------------
def test_import_candidates_without_any_writes_an_empty_valid_set(
        db: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cases.jsonl"
    assert ok("eval", "import-candidates", "-o", str(out)).stdout.strip() == (
        f"0 test cases written to {out}")
    assert out.read_text(encoding="utf-8") == ""
    assert load_set(out) == []  # the validator accepts an empty set ...
    # ... but an upload of it is refused: an empty set can't be run
    assert fails(monkeypatch, capsys, "eval", "upload", str(out), "--name", "cases") == (
        "error: the set has no questions\n")


def test_import_candidates_writes_the_reviewed_cases(db: Services, tmp_path: Path) -> None:
    made = db.drafts.create(db.identity.as_user("agent"), "VPN error NWL-VPN-809?", ["kb"],
                            allowed={"kb"}, customer=Customer(name="Ada", ticket_id="T-1"),
                            tone="formal")
    rita = db.identity.as_user("rita")
    db.review.claim(made.draft_id, rita, readable={"kb"})
    scores = {"accuracy": 5, "completeness": 4, "tone": 5, "citations": 5}
    db.review.approve(made.draft_id, rita, Rating(scores), readable={"kb"})
    db.review.make_candidate(made.draft_id, rita, readable={"kb"})
    out = tmp_path / "cases.jsonl"
    assert "1 test cases written" in ok("eval", "import-candidates", "-o", str(out),
                                        "--user", "eva").stdout
    [case] = load_set(out)
    assert case.question == "VPN error NWL-VPN-809?" and case.expected_documents == ("vpn.md",)
    assert case.reference_answer and "from-review" in case.tags
    assert "1 questions" in ok("eval", "upload", str(out), "--name", "reviewed").stdout


# -- prompts --------------------------------------------------------------------------------
def test_prompts_new_pilot_promote_and_roll_back(db: Services, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert "answer: production 1; versions 1 (production)" in ok("prompts", "list").stdout
    shown = json.loads(ok("prompts", "show", "answer").stdout)
    assert (shown["ref"], shown["zone"], shown["history"][0]["action"]) == (
        "answer@1", "production", "seed")
    source = write(tmp_path / "v2.toml", NEW_VERSION)
    assert ok("prompts", "new", "answer", "--from-file", str(source), "--note",
              "shorter").stdout.strip() == "added answer@2 (exploration)"
    two = db.prompts.show("answer@2")
    assert two.gate == tomllib.loads(NEW_VERSION)["gate"] == GATE
    assert two.template.user == "{context}\n\nQ: {question}"
    assert two.change_note == "shorter" and two.author == OPERATOR.actor
    assert ok("prompts", "pilot", "answer@2").stdout.strip() == "answer@2 is in pilot"
    assert ok("prompts", "pilot", "answer@2", "--back").stdout.strip() == (
        "answer@2 is in exploration")

    wrong = db.evals.start(OPERATOR, "tiny", RunConfig(), readable={"kb"}, wait=True).id
    right = db.evals.start(OPERATOR, "tiny", RunConfig(prompt="answer@2"), readable={"kb"},
                           wait=True).id
    assert fails(monkeypatch, capsys, "prompts", "promote", "answer@2", "--run", wrong) == (
        f"error: answer@2 can't be promoted: run {wrong} evaluated answer@1, not answer@2\n")
    assert ok("prompts", "promote", "answer@2", "--run", right).stdout.strip() == (
        "answer@2 is in production")
    assert db.prompts.get("answer").ref == "answer@2"
    last = db.prompts.show("answer").history[-1]
    assert (last.action, last.run_id, last.by) == ("promote", right, OPERATOR.actor)
    assert "answer: production 2; versions 1 (pilot), 2 (production)" in ok(
        "prompts", "list").stdout
    assert ok("prompts", "rollback", "answer").stdout.strip() == "answer@1 is back in production"
    assert db.prompts.get("answer").ref == "answer@1"
    assert fails(monkeypatch, capsys, "prompts", "rollback", "answer") == (
        "error: 'answer' has no promotion to roll back\n")


def test_prompts_new_refuses_a_template_that_would_not_render(
        db: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    source = write(tmp_path / "bad.toml", 'system = "S"\nuser = "{question} only"\n')
    assert fails(monkeypatch, capsys, "prompts", "new", "answer", "--from-file", str(source),
                 "--note", "x") == "error: the user text needs {context} and {question}\n"
    assert fails(monkeypatch, capsys, "prompts", "show", "answer@2") == (
        "error: prompt 'answer@2' not found\n")


def test_prompts_new_from_a_broken_toml_is_one_clean_line(
        db: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    source = write(tmp_path / "broken.toml", "system = [\n")
    fails(monkeypatch, capsys, "prompts", "new", "answer", "--from-file", str(source),
          "--note", "x")


def test_prompts_new_as_a_user_without_the_evaluator_role_is_refused(
        db: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    source = write(tmp_path / "v2.toml", NEW_VERSION)
    err = fails(monkeypatch, capsys, "prompts", "new", "answer", "--from-file", str(source),
                "--note", "x", "--user", "agent")
    assert err == "error: agent does not have the evaluator role\n"
