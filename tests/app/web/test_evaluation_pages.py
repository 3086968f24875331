"""The evaluator's pages in a real browser over a real server, with the fake models over the
demo knowledge base: question sets (a malformed upload names its line), runs followed live to
their report, comparisons, and the prompt library's zones, gate-checked promotion and
rollback."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from app.core.principal import Principal
from app.evaluation.records import EvalRun
from eval.runner import RunConfig
from models.fakes import FakeEmbedder, FakeLLM
from tests.app.web.conftest import (
    PASSWORD,
    LiveServer,
    serious_violations,
    shot,
    sign_in,
    start_server,
    web_settings,
)
from tests.conftest import DEMO_KB, write_kb

# these tests make and promote their own answer@2 (tests/conftest.py)
pytestmark = pytest.mark.usefixtures("one_version_library")

QUESTION = "What is the minimum length of a password?"
GOOD_LINE = {"id": "q1", "question": QUESTION,
             "collections": ["demo"],
             "expected_documents": ["security/information-security-policy.pdf"],
             "key_facts": ["14 characters"], "must_refuse": False, "tags": ["password"]}
SEEDER = Principal(user_id=None, username="seeder", roles=frozenset({"admin"}), via="cli")
SLOW = 60_000  # ms: a run of the smoke set, on two shared cores


@pytest.fixture(scope="module")
def gate() -> threading.Event:
    """Open: the fake model answers at once; cleared, it holds a run on its first answer."""
    opened = threading.Event()
    opened.set()
    return opened


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory,
           gate: threading.Event) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("eval-pages")
    for live in start_server(web_settings(tmp), embedder=FakeEmbedder(),
                             llm=FakeLLM(["I don't know."], gate=gate)):
        s = live.services
        s.collections.upsert("demo", DEMO_KB, "en")
        s.indexer.sync("demo")
        s.access.set_grants("demo", everyone=True)
        live.user("eva", "evaluator")
        live.user("adam", "admin")
        live.user("ann", "agent")
        yield live


def run_now(server: LiveServer, config: RunConfig, set_name: str = "demo-smoke") -> EvalRun:
    """A run started and finished through the service, for pages that need one."""
    s = server.services
    return s.evals.start(SEEDER, set_name, config, readable=s.access.readable(SEEDER),
                         wait=True)


def test_a_malformed_set_is_refused_with_its_line_then_a_good_one_is_stored(
        server: LiveServer, page: Page) -> None:
    sign_in(page, server, "eva")
    assert page.url.endswith("/eval")
    page.get_by_role("link", name="Question sets").click()
    smoke = page.get_by_role("row").filter(has=page.get_by_role("link", name="demo-smoke"))
    expect(smoke).to_contain_text("built-in")
    expect(smoke.get_by_role("cell").nth(2)).to_have_text("9")
    assert serious_violations(page) == []
    shot(page, "eval-sets")

    broken = {k: v for k, v in GOOD_LINE.items() if k != "tags"} | {"id": "q2"}
    page.get_by_label("Name", exact=True).fill("my-set")
    page.get_by_label("Or paste the questions").fill(
        json.dumps(GOOD_LINE) + "\n" + json.dumps(broken) + "\n")
    page.get_by_role("button", name="Upload the set").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Line 2 is wrong:")
    expect(alert).to_contain_text("missing field(s): tags")
    # what was typed is kept, to be fixed rather than typed again
    expect(page.get_by_label("Or paste the questions")).to_have_value(
        json.dumps(GOOD_LINE) + "\n" + json.dumps(broken) + "\n")
    assert serious_violations(page) == []
    shot(page, "eval-sets-error")

    page.get_by_label("Or paste the questions").fill(json.dumps(GOOD_LINE))
    page.get_by_role("button", name="Upload the set").click()
    expect(page.get_by_role("status")).to_have_text("The set is stored.")
    expect(page.get_by_role("cell", name=QUESTION)).to_be_visible()
    assert serious_violations(page) == []
    shot(page, "eval-set")
    page.get_by_role("link", name="Question sets").click()
    expect(page.get_by_role("row").filter(has=page.get_by_role("link", name="my-set"))
           ).to_contain_text("uploaded")


def test_a_file_upload_names_the_line_too(server: LiveServer, page: Page,
                                          tmp_path: Path) -> None:
    sign_in(page, server, "eva")
    page.goto(server.url + "/eval/sets")
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(GOOD_LINE) + "\n\n{not json\n")
    page.get_by_label("Name", exact=True).fill("from-a-file")
    page.get_by_label("A file of JSON lines").set_input_files(str(bad))
    page.get_by_role("button", name="Upload the set").click()
    expect(page.get_by_role("alert")).to_contain_text("Line 3 is wrong: not valid JSON")


def test_a_retrieval_only_run_is_started_and_its_report_shown_in_the_page(
        server: LiveServer, page: Page) -> None:
    sign_in(page, server, "eva")
    expect(page.get_by_role("heading", name="Evaluation runs")).to_be_visible()
    assert serious_violations(page) == []
    shot(page, "eval-runs-empty")
    page.get_by_label("Question set").select_option("demo-smoke")
    page.get_by_label("Retrieval only").check()
    page.get_by_role("button", name="Start the run").click()
    page.wait_for_url("**/eval/runs/*")
    report = page.locator("iframe.report")
    expect(report).to_be_visible(timeout=SLOW)
    expect(page.locator("h1 .badge")).to_have_text("succeeded")
    expect(report).to_have_attribute("title", re.compile(r"^Report of run \w{8}$"))
    expect(page.frame_locator("iframe.report").get_by_text("demo-smoke").first).to_be_visible()
    summary = page.locator("table.summary")
    expect(summary.get_by_role("row").filter(has_text="hit_at_k")).to_be_visible()
    expect(summary.get_by_role("row").filter(has_text="questions")).to_contain_text("9")
    assert serious_violations(page) == []
    shot(page, "eval-run")
    page.get_by_role("link", name="Runs", exact=True).click()
    row = page.get_by_role("row").filter(has_text="retrieval only").first
    expect(row).to_contain_text("demo-smoke")
    expect(row).to_contain_text("succeeded")
    assert serious_violations(page) == []
    shot(page, "eval-runs")


def test_the_run_page_shows_live_progress_until_the_run_is_done(
        server: LiveServer, page: Page, gate: threading.Event) -> None:
    sign_in(page, server, "eva")
    gate.clear()  # the fake model holds the run on its first answer
    try:
        page.get_by_label("Question set").select_option("demo-smoke")
        page.get_by_role("button", name="Start the run").click()
        page.wait_for_url("**/eval/runs/*")
        progress = page.get_by_role("progressbar", name="Questions done")
        expect(progress).to_be_visible()
        assert progress.get_attribute("max") == "9"
        expect(page.get_by_role("status")).to_contain_text("of 9 questions done")
        assert serious_violations(page) == []
        shot(page, "eval-run-progress")
    finally:
        gate.set()
    # eval.js polls the JSON run and reloads the page once it is finished
    expect(page.locator("iframe.report")).to_be_visible(timeout=SLOW)
    expect(page.get_by_role("progressbar")).to_have_count(0)


def test_compare_shows_two_runs_side_by_side(server: LiveServer, page: Page) -> None:
    a = run_now(server, RunConfig(retrieval_only=True, k=1))
    b = run_now(server, RunConfig(retrieval_only=True, k=5))
    sign_in(page, server, "eva")
    page.get_by_role("link", name="Compare runs").click()
    assert serious_violations(page) == []
    page.get_by_label("Baseline (A)").select_option(a.id)
    page.get_by_label("Candidate (B)").select_option(b.id)
    page.get_by_role("button", name="Compare", exact=True).click()
    sides = page.locator("table.sides")
    expect(sides.get_by_role("link", name=a.id[:8])).to_be_visible()
    expect(sides.get_by_role("link", name=b.id[:8])).to_be_visible()
    metrics = page.locator("table.metrics")
    hit = metrics.get_by_role("row").filter(has_text="hit_at_k")
    expect(hit).to_contain_text("noise")  # within or beyond: the bootstrap says which
    expect(hit.get_by_role("cell").nth(3)).to_contain_text("[")
    expect(metrics.get_by_role("columnheader", name="95 percent interval")).to_be_visible()
    expect(page.get_by_role("heading", name="Wins for B")).to_be_visible()
    expect(page.get_by_role("heading", name="Losses for B")).to_be_visible()
    assert serious_violations(page) == []
    shot(page, "eval-compare")


def test_promotion_shows_the_gate_before_confirming_and_a_failing_run_cannot_confirm(
        server: LiveServer, page: Page) -> None:
    s = server.services
    base = s.prompts.show("answer@1").template
    strict = s.prompts.new_version(
        SEEDER, "answer", system=base.system, user=base.user, change_note="stricter wording",
        gate={"set": "demo-smoke", "min": {"hit_at_k": 0.0, "groundedness": 0.9},
              "max": {"false_refusal_rate": 1.0}})
    run = run_now(server, RunConfig(prompt=strict.ref))

    # an evaluator moves it to pilot, but cannot promote
    sign_in(page, server, "eva")
    page.goto(server.url + "/eval/prompts")
    page.get_by_role("button", name=f"Move to pilot ({strict.ref})").click()
    version = page.get_by_role("row").filter(has_text=strict.ref)
    expect(version.locator(".badge").first).to_have_text("pilot")
    expect(page.get_by_role("link", name=f"Promote {strict.ref}")).to_have_count(0)
    assert page.goto(f"{server.url}/eval/prompts/{strict.ref}/promote"
                     ).status == 404  # type: ignore[union-attr]
    page.context.clear_cookies()

    sign_in(page, server, "adam")
    page.goto(server.url + "/eval/prompts")
    expect(page.get_by_role("row").filter(has_text=strict.ref)).to_contain_text(
        "does not meet the gate")
    assert serious_violations(page) == []
    shot(page, "eval-prompts")
    page.get_by_role("link", name=f"Promote {strict.ref}").click()
    page.get_by_label("The run that justifies it").select_option(run.id)
    page.get_by_role("button", name="Check the gate").click()
    checks = page.locator("table.checks")
    expect(checks.get_by_role("row").filter(has_text="groundedness")).to_contain_text("fails")
    expect(checks.get_by_role("row").filter(has_text="hit_at_k")).to_contain_text("passes")
    expect(page.get_by_role("alert")).to_contain_text("groundedness")
    confirm = page.get_by_role("button", name=f"Confirm: promote {strict.ref}")
    expect(confirm).to_be_disabled()
    assert serious_violations(page) == []
    shot(page, "eval-promote-blocked")
    # the store is the authority: a hand-made post is refused with the same reason
    token = page.locator('input[name="csrf_token"]').first.input_value()
    refused = page.request.post(f"{server.url}/eval/prompts/{strict.ref}/promote",
                                form={"csrf_token": token, "run_id": run.id})
    assert refused.status == 409 and "groundedness" in refused.text()
    assert s.prompts.show("answer").version == 1


def test_an_admin_promotes_a_version_that_meets_its_gate_then_rolls_back(
        server: LiveServer, page: Page) -> None:
    s = server.services
    base = s.prompts.show("answer@1").template
    easy = s.prompts.new_version(
        SEEDER, "answer", system=base.system, user=base.user, change_note="same words",
        gate={"set": "demo-smoke", "min": {"hit_at_k": 0.0}})
    run = run_now(server, RunConfig(prompt=easy.ref))
    sign_in(page, server, "adam")
    page.goto(f"{server.url}/eval/prompts/{easy.ref}/promote?run={run.id}")
    expect(page.locator("table.checks").get_by_role("row").filter(has_text="hit_at_k")
           ).to_contain_text("passes")
    page.get_by_role("button", name=f"Confirm: promote {easy.ref}").click()
    page.wait_for_url("**/eval/prompts*")
    expect(page.get_by_role("heading", name="answer")).to_contain_text(
        f"in production: version {easy.version}")
    assert s.prompts.show("answer").ref == easy.ref
    page.get_by_role("link", name="Roll back answer…").click()
    expect(page.get_by_text("Goes back to")).to_be_visible()
    assert serious_violations(page) == []
    shot(page, "eval-rollback")
    page.get_by_role("button", name="Confirm: roll back answer").click()
    page.wait_for_url("**/eval/prompts*")
    expect(page.get_by_role("heading", name="answer")).to_contain_text(
        "in production: version 1")
    assert s.prompts.show("answer").version == 1


def test_the_pages_speak_dutch_and_are_for_evaluators_only(server: LiveServer,
                                                           page: Page) -> None:
    sign_in(page, server, "eva")
    page.get_by_label("Language").select_option("nl")
    page.get_by_role("button", name="Switch").click()
    expect(page.get_by_role("heading", name="Evaluatieruns")).to_be_visible()
    page.goto(server.url + "/eval/sets")
    expect(page.get_by_role("heading", name="Vragensets")).to_be_visible()
    page.context.clear_cookies()
    sign_in(page, server, "ann")
    for path in ("/eval", "/eval/sets", "/eval/compare", "/eval/prompts"):
        assert page.goto(server.url + path).status == 404  # type: ignore[union-attr]


def test_a_set_over_a_collection_the_evaluator_cannot_read_is_not_found(
        server: LiveServer, tmp_path: Path) -> None:
    """Not listed, not offered for a run, and its page is 404 like a set that does not exist;
    the admin, who reads the collection, still sees all three."""
    s = server.services
    s.collections.upsert("vault", write_kb(tmp_path / "vault", {
        "vault.md": "# Vault\n\nThe vault door code is kept by facilities.\n"}), "en")
    s.evals.upload_set(SEEDER, "vault-set", json.dumps(GOOD_LINE | {
        "id": "v1", "question": "Who keeps the vault door code?", "collections": ["vault"],
        "expected_documents": ["vault.md"]}))

    @contextmanager
    def signed_in(username: str) -> Iterator[httpx.Client]:
        with httpx.Client(base_url=server.url) as client:
            r = client.post("/v1/auth/login", json={"username": username, "password": PASSWORD})
            assert r.status_code == 200, r.text
            yield client

    with signed_in("eva") as eva, signed_in("adam") as adam:
        for path in ("/eval/sets", "/eval"):
            assert "vault-set" not in eva.get(path).text, path
            assert "demo-smoke" in eva.get(path).text, path
            assert "vault-set" in adam.get(path).text, path
        hidden, missing = eva.get("/eval/sets/vault-set"), eva.get("/eval/sets/no-such-set")
        assert hidden.status_code == missing.status_code == 404
        assert "vault" not in hidden.text.replace("vault-set", "")
        shown = adam.get("/eval/sets/vault-set")
        assert shown.status_code == 200 and "Who keeps the vault door code?" in shown.text
