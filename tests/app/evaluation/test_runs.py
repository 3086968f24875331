"""Evaluation runs as a service and over HTTP: sets, reproducible run records, background runs
with progress, self-contained reports, comparisons, and who may see which run.

Tests where the database matters run on SQLite and PostgreSQL (``db_settings``)."""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import pytest
from fastapi.testclient import TestClient

from app.core.errors import Busy, InvalidInput, NotFound
from app.core.principal import Principal
from app.core.settings import LLMSettings, RetrievalSettings, Settings
from app.evaluation.records import EvalRun, QuestionSet
from app.main import create_app
from app.wiring import Services
from eval.runner import RunConfig
from models.fakes import FakeEmbedder, FakeLLM
from tests.access import Lab as BaseLab
from tests.access import eval_team, without_request_id
from tests.conftest import write_kb

VPN_REPLY = "VPN error NWL-VPN-809 means the device certificate expired [1]."
VPN_QUESTION = "What does VPN error NWL-VPN-809 mean?"


def line(qid: str, question: str, *, collections: tuple[str, ...] = ("kb",),
         expected: tuple[str, ...] = ("vpn.md",), must_refuse: bool = False,
         key_facts: tuple[str, ...] = ()) -> str:
    return json.dumps({"id": qid, "question": question, "collections": list(collections),
                       "expected_documents": [] if must_refuse else list(expected),
                       "key_facts": list(key_facts), "must_refuse": must_refuse, "tags": []})


TINY = "\n".join([line("q-vpn", VPN_QUESTION, key_facts=("certificate expired",)),
                  line("q-peru", "capital of Peru?", must_refuse=True)]) + "\n"
SECRET_KB = {"vault.md": "# Vault\n\nThe vault door code is kept by facilities.\n"}


class Lab(BaseLab):
    def run(self, who: str, set_name: str, config: RunConfig = RunConfig()) -> EvalRun:
        return self.services.evals.start(self.principal(who), set_name, config,
                                         readable=self.readable(who), wait=True)


@contextmanager
def open_lab(settings: Settings, root: Path, llm: FakeLLM | None = None) -> Iterator[Lab]:
    """kb (readable by team eval) and secret (admins only); users admin, eva (evaluator of
    team eval) and agent (agent of team eval); sets tiny (kb) and secret-set (secret)."""
    llm = llm or FakeLLM([VPN_REPLY])
    app = create_app(settings, embedder=FakeEmbedder(), llm=llm)
    with TestClient(app, raise_server_exceptions=False) as client:
        services: Services = app.state.services
        for name, files in (("kb", None), ("secret", SECRET_KB)):
            folder = write_kb(root / name) if files is None else write_kb(root / name, files)
            services.collections.upsert(name, folder, "en")
            services.indexer.sync(name)
        tokens = eval_team(services)
        admin = services.identity.as_user("admin")
        services.evals.upload_set(admin, "tiny", TINY)
        services.evals.upload_set(admin, "secret-set", line(
            "q-vault", "Who keeps the vault door code?", collections=("secret",),
            expected=("vault.md",)))
        yield Lab(client, services, llm, tokens)


@pytest.fixture
def lab(db_settings: Settings, tmp_path: Path) -> Iterator[Lab]:
    """On SQLite and PostgreSQL."""
    with open_lab(db_settings, tmp_path) as built:
        yield built


@pytest.fixture
def sqlite_lab(settings: Settings, tmp_path: Path) -> Iterator[Lab]:
    with open_lab(settings, tmp_path) as built:
        yield built


Run = TypeVar("Run", dict[str, Any], EvalRun)  # a run from the API, or from the service


def wait_for(fetch: Callable[[], Run], timeout: float = 20) -> Run:
    """Poll a run until it is neither queued nor running."""
    deadline = time.monotonic() + timeout
    while True:
        run = fetch()
        status = run["status"] if isinstance(run, dict) else run.status
        if status not in ("queued", "running") or time.monotonic() > deadline:
            return run
        time.sleep(0.05)


# -- sets -----------------------------------------------------------------------------------
def test_malformed_set_is_refused_with_its_line_number(sqlite_lab: Lab) -> None:
    evals, eva = sqlite_lab.services.evals, sqlite_lab.principal("eva")
    bad_json = line("a", VPN_QUESTION) + '\n{"id": "b", "question": "x"\n'
    with pytest.raises(InvalidInput) as refused:
        evals.upload_set(eva, "broken", bad_json)
    assert refused.value.code == "invalid_set"
    assert refused.value.message.startswith("broken:2: not valid JSON")
    missing = line("a", VPN_QUESTION) + "\n\n" + json.dumps({"id": "b", "question": "x"})
    with pytest.raises(InvalidInput, match=r"^broken:3: missing field\(s\): collections"):
        evals.upload_set(eva, "broken", missing)  # blank lines still count
    r = sqlite_lab.client.post("/v1/eval/sets", headers=sqlite_lab.as_("eva"),
                               json={"name": "broken", "jsonl": bad_json})
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "invalid_set"
    assert r.json()["error"]["message"].startswith("broken:2: ")
    with pytest.raises(NotFound):
        evals.set_path("broken")  # nothing was stored
    names = [s["name"] for s in sqlite_lab.client.get(
        "/v1/eval/sets", headers=sqlite_lab.as_("eva")).json()["sets"]]
    assert "broken" not in names and "tiny" in names


def test_a_good_set_is_stored_with_the_hash_of_its_file(sqlite_lab: Lab) -> None:
    r = sqlite_lab.client.post("/v1/eval/sets", headers=sqlite_lab.as_("eva"),
                               json={"name": "fine", "jsonl": TINY})
    assert r.status_code == 201, r.text
    stored = sqlite_lab.services.settings.data_dir / "eval-sets" / "fine.jsonl"
    digest = hashlib.sha256(stored.read_bytes()).hexdigest()
    assert r.json() == {"name": "fine", "questions": 2, "sha256": digest}
    listed = {s.name: s for s in sqlite_lab.services.evals.sets()}
    assert listed["fine"] == QuestionSet(name="fine", origin="uploaded", questions=2,
                                         must_refuse=1, sha256=digest)
    assert listed["demo"].origin == "built-in"
    assert sqlite_lab.services.audit.latest("eval_set_uploaded") is not None


@pytest.mark.parametrize(("name", "text", "code"), [
    ("demo", TINY, "set_exists"),
    ("demo-nl", TINY, "set_exists"),
    ("../escape", TINY, "invalid_set_name"),
    ("Tiny", TINY, "invalid_set_name"),
    ("tiny2\n", TINY, "invalid_set_name"),  # a final newline is not part of a name
    ("empty", "\n\n", "invalid_set"),
])
def test_upload_refuses_built_in_and_bad_names_and_empty_sets(sqlite_lab: Lab, name: str,
                                                              text: str, code: str) -> None:
    r = sqlite_lab.client.post("/v1/eval/sets", headers=sqlite_lab.as_("eva"),
                               json={"name": name, "jsonl": text})
    assert r.status_code == (409 if code == "set_exists" else 422)
    assert r.json()["error"]["code"] == code
    assert not (sqlite_lab.services.settings.data_dir / "eval-sets" / f"{name}.jsonl").exists()


def test_an_uploaded_set_is_never_overwritten(sqlite_lab: Lab) -> None:
    """Runs and prompt gates name sets: a name keeps its questions."""
    first = sqlite_lab.client.post("/v1/eval/sets", headers=sqlite_lab.as_("eva"),
                                   json={"name": "kept", "jsonl": TINY})
    assert first.status_code == 201
    again = sqlite_lab.client.post("/v1/eval/sets", headers=sqlite_lab.as_("eva"),
                                   json={"name": "kept", "jsonl": TINY.splitlines()[0]})
    assert again.status_code == 409 and again.json()["error"]["code"] == "set_exists"
    assert sqlite_lab.services.evals.current_hash("kept") == first.json()["sha256"]



# -- who sees which set ---------------------------------------------------------------------
def test_sets_are_listed_only_to_readers_of_all_their_collections(sqlite_lab: Lab) -> None:
    """A set quotes questions about its collections: tiny (kb) is eva's, secret-set (secret)
    and a set over kb and secret are not; the admin reads every collection and sees them all."""
    lab, c = sqlite_lab, sqlite_lab.client
    lab.services.evals.upload_set(lab.principal("admin"), "mixed", "\n".join([
        line("q-vpn", VPN_QUESTION),
        line("q-vault", "Who keeps the vault door code?", collections=("secret",),
             expected=("vault.md",))]))

    def listed(who: str) -> dict[str, dict[str, Any]]:
        r = c.get("/v1/eval/sets", headers=lab.as_(who))
        assert r.status_code == 200, r.text
        return {s["name"]: s for s in r.json()["sets"]}

    mine, everything = listed("eva"), listed("admin")
    assert "tiny" in mine and not {"secret-set", "mixed"} & set(mine)
    assert {"tiny", "secret-set", "mixed"} <= set(everything)
    assert everything["tiny"] == mine["tiny"]
    # built-in sets obey the same rule: there is no demo collection here
    assert "demo" not in mine and "demo" not in everything
    assert "demo" in {s.name for s in lab.services.evals.sets()}  # the operator's view


def test_a_hidden_set_looks_exactly_like_a_missing_one(sqlite_lab: Lab) -> None:
    c, eva = sqlite_lab.client, sqlite_lab.as_("eva")
    hidden = c.post("/v1/eval/runs", headers=eva, json={"set": "secret-set"})
    missing = c.post("/v1/eval/runs", headers=eva, json={"set": "no-such-set"})
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["error"]["code"] == missing.json()["error"]["code"] == "set_not_found"
    assert hidden.json()["error"]["message"].replace("secret-set", "X") == \
        missing.json()["error"]["message"].replace("no-such-set", "X")
    with pytest.raises(NotFound):
        sqlite_lab.services.evals.visible_set("secret-set", readable=sqlite_lab.readable("eva"))
    # the owner of the collections still gets it
    admin = sqlite_lab.readable("admin")
    assert sqlite_lab.services.evals.visible_set("secret-set", readable=admin).name == \
        "secret-set"
    assert c.post("/v1/eval/runs", headers=sqlite_lab.as_("admin"),
                  json={"set": "secret-set", "retrieval_only": True}).status_code == 202


def test_a_set_that_no_longer_parses_is_shown_only_if_its_collections_still_say(
        sqlite_lab: Lab) -> None:
    folder = sqlite_lab.services.settings.data_dir / "eval-sets"
    # valid JSON naming its collection, but a field is missing: listed with the reason
    (folder / "stale-kb.jsonl").write_text(json.dumps({"id": "a", "question": "x",
                                                       "collections": ["kb"]}) + "\n")
    (folder / "stale-secret.jsonl").write_text(json.dumps({"id": "a", "question": "x",
                                                           "collections": ["secret"]}) + "\n")
    (folder / "garbled.jsonl").write_text('{"id": "a", "collec\n')  # says nothing: hidden
    (folder / "latin1.jsonl").write_bytes(b'{"question": "caf\xe9"}\n')
    eva = {s["name"]: s for s in sqlite_lab.client.get(
        "/v1/eval/sets", headers=sqlite_lab.as_("eva")).json()["sets"]}
    admin = {s["name"] for s in sqlite_lab.client.get(
        "/v1/eval/sets", headers=sqlite_lab.as_("admin")).json()["sets"]}
    assert eva["stale-kb"]["error"].startswith("stale-kb.jsonl:1: missing field(s)")
    assert "stale-secret" not in eva and "stale-secret" in admin
    assert not {"garbled", "latin1"} & (set(eva) | admin)
    r = sqlite_lab.client.post("/v1/eval/runs", headers=sqlite_lab.as_("eva"),
                               json={"set": "stale-kb"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_set"
    r = sqlite_lab.client.post("/v1/eval/runs", headers=sqlite_lab.as_("eva"),
                               json={"set": "stale-secret"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "set_not_found"


def test_a_set_over_a_collection_the_uploader_cannot_read_is_not_stored(sqlite_lab: Lab) -> None:
    """Stored, it would be hidden from its own uploader; refused, it says no more than a
    collection that does not exist."""
    c, eva = sqlite_lab.client, sqlite_lab.as_("eva")
    bodies = {}
    for name, collection in (("mine-secret", "secret"), ("mine-nowhere", "nowhere")):
        r = c.post("/v1/eval/sets", headers=eva, json={"name": name, "jsonl": line(
            "q", "anything?", collections=("kb", collection), expected=("x.md",))})
        assert r.status_code == 404, r.text
        bodies[collection] = r.json()["error"]
        assert not (sqlite_lab.services.settings.data_dir / "eval-sets" / f"{name}.jsonl"
                    ).exists()
    assert bodies["secret"]["code"] == bodies["nowhere"]["code"] == "collection_not_found"
    assert bodies["secret"]["message"].replace("secret", "X") == \
        bodies["nowhere"]["message"].replace("nowhere", "X")
    r = c.post("/v1/eval/sets", headers=sqlite_lab.as_("admin"), json={
        "name": "admins-secret", "jsonl": line("q", "vault?", collections=("secret",),
                                               expected=("vault.md",))})
    assert r.status_code == 201, r.text

# -- runs -----------------------------------------------------------------------------------
def test_a_run_records_everything_needed_to_reproduce_it(lab: Lab) -> None:
    run = lab.run("eva", "tiny")
    set_file = lab.services.settings.data_dir / "eval-sets" / "tiny.jsonl"
    assert run.status == "succeeded" and run.message == "done"
    assert run.set_name == "tiny"
    assert run.set_hash == hashlib.sha256(set_file.read_bytes()).hexdigest()
    assert run.prompt == "answer@2"  # "answer" resolved to the production version
    assert run.model_id == "fake-llm"
    assert run.snapshot_ids == {"kb": lab.services.collections.get("kb").snapshot_id}
    assert run.config.model_dump() == {"prompt": "answer@2", "model": None, "k": 5,
                             "retrieval_only": False,
                             "retrieval": lab.services.settings.retrieval.model_dump()}
    assert run.config.retrieval["min_dense_score"] == 0.2
    assert run.progress.model_dump() == {"done": 2, "total": 2}
    assert run.created_by == "eva" and run.finished_at is not None
    assert [r["id"] for r in run.results] == ["q-vpn", "q-peru"]
    assert run.summary["hit_at_k"] == 1.0 and run.summary["refusal_accuracy"] == 1.0
    assert run.summary["key_fact_coverage"] == 1.0
    # what was stored reads back the same (JSON columns on both databases)
    assert lab.services.evals.get(run.id, readable=lab.readable("eva")) == run
    started = lab.services.audit.latest("eval_run_started")
    assert started is not None and started["details"]["prompt"] == "answer@2"
    finished = lab.services.audit.latest("eval_run_finished")
    assert finished is not None and finished["details"]["status"] == "succeeded"


def test_background_run_over_http_reports_progress(lab: Lab) -> None:
    r = lab.client.post("/v1/eval/runs", headers=lab.as_("eva"), json={"set": "tiny", "k": 3})
    assert r.status_code == 202, r.text
    run_id = r.json()["id"]
    assert r.headers["location"] == f"/v1/eval/runs/{run_id}"
    assert r.json()["progress"]["total"] == 2
    done = wait_for(lambda: lab.client.get(r.headers["location"],
                                           headers=lab.as_("eva")).json())
    assert done["status"] == "succeeded", done
    assert done["progress"] == {"done": 2, "total": 2}
    assert done["summary"]["k"] == 3 and len(done["results"]) == 2
    listed = lab.client.get("/v1/eval/runs", headers=lab.as_("eva")).json()["runs"]
    assert [x["id"] for x in listed] == [run_id]
    assert "results" not in listed[0]  # the list is light; the run itself has them


def test_report_is_a_self_contained_html_page(sqlite_lab: Lab) -> None:
    admin = sqlite_lab.principal("admin")
    sqlite_lab.services.evals.upload_set(admin, "markup", line(
        "q-b", "What does <b>NWL-VPN-809</b> mean?"))
    run = sqlite_lab.run("eva", "markup")
    r = sqlite_lab.client.get(f"/v1/eval/runs/{run.id}/report",
                              headers=sqlite_lab.as_("eva"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = r.text
    assert page.startswith("<!doctype html>")
    assert "<svg" in page and "<rect" in page  # the metrics chart, inline
    lowered = page.lower()
    for external in ("<script", "<link", "<img", "<iframe", "url(", "src=", "href="):
        assert external not in lowered, external
    # the only URL is the SVG namespace name, which is never fetched
    assert set(re.findall(r"https?://[^\s\"'<>]+", page)) == {"http://www.w3.org/2000/svg"}
    assert "&lt;b&gt;NWL-VPN-809&lt;/b&gt;" in page and "<b>" not in page
    missing = sqlite_lab.client.get("/v1/eval/runs/nope/report", headers=sqlite_lab.as_("eva"))
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "run_not_found"


def test_compare_endpoint_json_and_html(lab: Lab) -> None:
    a = lab.run("eva", "tiny", RunConfig(retrieval_only=True))
    b = lab.run("eva", "tiny")
    url = f"/v1/eval/compare?a={a.id}&b={b.id}"
    r = lab.client.get(url, headers=lab.as_("eva"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["same_set"] is True and body["questions_compared"] == 2
    assert body["a"]["id"] == a.id and body["b"]["id"] == b.id
    assert body["metrics"]["hit_at_k"]["diff"] == 0.0
    assert body["metrics"]["refusal_correct"]["questions"] == 2
    assert "key_fact_coverage" not in body["metrics"]  # a retrieval-only run has none
    assert body["wins"] == [] and body["losses"] == []
    html = lab.client.get(url + "&html=true", headers=lab.as_("eva"))
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert html.text.startswith("<!doctype html>") and "paired bootstrap" in html.text
    assert "<script" not in html.text
    unknown = lab.client.get(f"/v1/eval/compare?a={a.id}&b=nope", headers=lab.as_("eva"))
    assert unknown.status_code == 404


def test_a_failed_run_keeps_its_reason_and_cannot_be_compared(sqlite_lab: Lab) -> None:
    admin = sqlite_lab.principal("admin")
    sqlite_lab.services.evals.upload_set(admin, "too-long", line("q-long", "why? " * 1000))
    failed = sqlite_lab.run("eva", "too-long")
    assert failed.status == "failed"
    assert failed.message == "the question is longer than 4000 characters"
    good = sqlite_lab.run("eva", "tiny", RunConfig(retrieval_only=True))
    r = sqlite_lab.client.get(f"/v1/eval/compare?a={good.id}&b={failed.id}",
                              headers=sqlite_lab.as_("eva"))
    assert r.status_code == 422 and r.json()["error"]["code"] == "run_not_done"


# -- who sees what --------------------------------------------------------------------------
def test_runs_are_visible_only_to_readers_of_their_collections(lab: Lab) -> None:
    c, eva, admin = lab.client, lab.as_("eva"), lab.as_("admin")
    lab.services.evals.upload_set(lab.principal("admin"), "nowhere-set", line(
        "q", "anything?", collections=("nowhere",), expected=("x.md",)))
    for set_name in ("secret-set", "nowhere-set"):  # a set they may not see: as if absent
        r = c.post("/v1/eval/runs", headers=eva, json={"set": set_name, "retrieval_only": True})
        assert r.status_code == 404 and r.json()["error"]["code"] == "set_not_found"
    assert lab.services.evals.runs(readable={"kb", "secret", "nowhere"}) == []  # none made
    own = c.post("/v1/eval/runs", headers=eva, json={"set": "tiny", "retrieval_only": True})
    theirs = c.post("/v1/eval/runs", headers=admin,
                    json={"set": "secret-set", "retrieval_only": True})
    assert own.status_code == 202 and theirs.status_code == 202, theirs.text
    own_id, their_id = own.json()["id"], theirs.json()["id"]

    def as_admin(run_id: str) -> dict[str, Any]:
        return dict(c.get(f"/v1/eval/runs/{run_id}", headers=admin).json())

    for run_id in (own_id, their_id):
        wait_for(partial(as_admin, run_id))

    not_found = {"error": {"code": "run_not_found", "message": "evaluation run not found"}}
    for path in (f"/v1/eval/runs/{their_id}", f"/v1/eval/runs/{their_id}/report",
                 f"/v1/eval/compare?a={own_id}&b={their_id}",
                 f"/v1/eval/compare?a={their_id}&b={own_id}"):
        r = c.get(path, headers=eva)
        assert (r.status_code, without_request_id(r.json())) == (404, not_found), path
        assert c.get(path, headers=admin).status_code == 200, path
    unknown = c.get("/v1/eval/runs/0123456789abcdef", headers=eva)
    assert without_request_id(unknown.json()) == not_found
    assert [x["id"] for x in c.get("/v1/eval/runs", headers=eva).json()["runs"]] == [own_id]
    assert {x["id"] for x in c.get("/v1/eval/runs", headers=admin).json()["runs"]} == {
        own_id, their_id}
    assert c.get(f"/v1/eval/runs/{own_id}", headers=eva).status_code == 200


def test_an_agent_may_not_use_the_evaluation_api(sqlite_lab: Lab) -> None:
    run_id = sqlite_lab.run("eva", "tiny", RunConfig(retrieval_only=True)).id
    routes: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", "/v1/eval/sets", None),
        ("POST", "/v1/eval/sets", {"name": "by-{who}", "jsonl": TINY}),
        ("POST", "/v1/eval/runs", {"set": "tiny", "retrieval_only": True}),
        ("GET", "/v1/eval/runs", None),
        ("GET", f"/v1/eval/runs/{run_id}", None),
        ("GET", f"/v1/eval/runs/{run_id}/report", None),
        ("GET", f"/v1/eval/compare?a={run_id}&b={run_id}", None),
    ]
    for method, path, body in routes:
        for who, allowed in (("agent", False), ("eva", True)):
            payload = None if body is None else json.loads(
                json.dumps(body).replace("{who}", who))
            r = sqlite_lab.client.request(method, path, headers=sqlite_lab.as_(who),
                                          json=payload)
            if allowed:
                assert r.status_code in (200, 201, 202), (who, method, path, r.text)
            else:
                assert r.status_code == 403, (who, method, path, r.text)
                assert r.json()["error"]["code"] == "missing_role"
        assert sqlite_lab.client.request(method, path).status_code == 401
    assert "by-agent" not in {s.name for s in sqlite_lab.services.evals.sets()}


# -- models and the LLM queue ---------------------------------------------------------------
@pytest.fixture
def model_lab(tmp_path: Path) -> Iterator[Lab]:
    (tmp_path / "other.gguf").write_bytes(b"")  # enough for a retrieval-only run
    settings = Settings(data_dir=tmp_path / "data",
                        retrieval=RetrievalSettings(min_dense_score=0.2),
                        eval_models=[str(tmp_path / "other.gguf"), str(tmp_path / "gone.gguf")])
    with open_lab(settings, tmp_path) as built:
        yield built


def test_api_runs_may_only_name_the_servers_eval_models(model_lab: Lab,
                                                       tmp_path: Path) -> None:
    c, eva = model_lab.client, model_lab.as_("eva")
    r = c.post("/v1/eval/runs", headers=eva,
               json={"set": "tiny", "model": "/srv/models/elsewhere.gguf"})
    # a name the server does not list, like an unknown set: not found
    assert r.status_code == 404 and r.json()["error"]["code"] == "model_not_allowed"
    assert model_lab.services.evals.runs(readable={"kb"}) == []
    r = c.post("/v1/eval/runs", headers=eva, json={
        "set": "tiny", "model": str(tmp_path / "other.gguf"), "retrieval_only": True})
    assert r.status_code == 202, r.text
    assert r.json()["model_id"] == "llamacpp:other.gguf"
    assert r.json()["config"]["model"] == str(tmp_path / "other.gguf")


def test_a_listed_eval_model_that_is_missing_is_a_clean_error(model_lab: Lab,
                                                              tmp_path: Path) -> None:
    r = model_lab.client.post("/v1/eval/runs", headers=model_lab.as_("eva"), json={
        "set": "tiny", "model": str(tmp_path / "gone.gguf")})
    assert r.status_code in (422, 503), r.text
    assert "gone.gguf" in r.json()["error"]["message"]


def test_a_run_waits_while_the_llm_queue_is_full(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    gate = threading.Event()
    llm = FakeLLM([VPN_REPLY], gate=gate)
    settings = Settings(data_dir=tmp_path / "data", llm=LLMSettings(queue_size=1),
                        retrieval=RetrievalSettings(min_dense_score=0.2))
    with open_lab(settings, tmp_path, llm) as built:
        services, op = built.services, Principal.operator()
        monkeypatch.setattr(services.worker, "_retry_after", 1)  # retry every second

        def chat() -> Any:
            return services.answers.start(services.answers.prepare(
                VPN_QUESTION, ["kb"], allowed={"kb"}, asker=op))

        try:
            generating = chat()
            assert llm.started.wait(5)  # the worker holds it, waiting for the gate
            queued = chat()  # fills the queue
            with pytest.raises(Busy):
                chat()
            run = services.evals.start(op, "tiny", RunConfig(), readable={"kb"})
            time.sleep(1.5)  # the run has met the full queue (and slept on it) by now
            waiting = services.evals.get(run.id, readable={"kb"})
            assert waiting.status == "running", waiting  # not failed with "busy"
            assert waiting.progress.done == 0
        finally:
            gate.set()
        assert "NWL-VPN-809" in "".join(generating) and "NWL-VPN-809" in "".join(queued)
        done = wait_for(lambda: services.evals.get(run.id, readable={"kb"}))
    assert done.status == "succeeded", done
    assert done.results[0]["refused"] is False
    assert len(llm.prompts) == 3  # two chats and the run's one answerable question


def test_shutdown_hands_a_run_back_between_questions(tmp_path: Path, kb: Path) -> None:
    """A server stopping mid-run doesn't wait for the whole set: the run stops after the
    question in flight and is handed back with its result so far, and the next server
    resumes it from the second question."""
    from app.core.principal import Principal
    from app.core.settings import RetrievalSettings, Settings
    from app.wiring import build_services
    from eval.runner import RunConfig
    from models.fakes import FakeEmbedder, FakeLLM

    gate = threading.Event()
    llm = FakeLLM(["NWL-VPN-809 means the certificate expired [1]."], gate=gate)
    services = build_services(Settings(data_dir=tmp_path / "d",
                                       retrieval=RetrievalSettings(min_dense_score=0.2)),
                              embedder=FakeEmbedder(), llm=llm)
    services.collections.upsert("kb", kb, "en")
    services.indexer.sync("kb")
    services.worker.start()
    op = Principal.operator()
    services.evals.upload_set(op, "three", "\n".join(json.dumps({
        "id": f"q{i}", "question": "What does VPN error NWL-VPN-809 mean?",
        "collections": ["kb"], "expected_documents": ["vpn.md"], "key_facts": [],
        "must_refuse": False, "tags": []}) for i in range(3)))
    run = services.evals.start(op, "three", RunConfig(), readable={"kb"})
    assert llm.started.wait(10)
    closer = threading.Thread(target=services.close)
    closer.start()
    gate.set()
    closer.join(20)
    assert not closer.is_alive()
    ended = services.evals.get(run.id, readable={"kb"})
    assert ended.status == "queued" and "resumes" in ended.message
    assert len(ended.results) == 1 and ended.progress.done == 1

    again = build_services(Settings(data_dir=tmp_path / "d",
                                    retrieval=RetrievalSettings(min_dense_score=0.2)),
                           embedder=FakeEmbedder(), llm=FakeLLM(
                               ["NWL-VPN-809 means the certificate expired [1]."]))
    try:
        again.worker.start()
        again.evals.start_polling()
        done = wait_for(lambda: again.evals.get(run.id, readable={"kb"}))
        assert done.status == "succeeded", done
        assert [r["id"] for r in done.results] == ["q0", "q1", "q2"]
        assert done.results[0] == ended.results[0]  # the first answer is kept, not redone
        assert len(again.worker.llm.prompts) == 2  # type: ignore[attr-defined]
    finally:
        again.close()

