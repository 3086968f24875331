"""The governed prompt library: seeding, immutable versions, zones, pilot opt-in from chat,
eval-gated promotion, one-step rollback and racing promotions, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.settings import Settings
from app.evaluation.records import EvalRun
from app.main import create_app
from app.prompt_library.records import PromptDetail
from app.prompt_library.store import PromptStore
from app.prompt_library.tables import PromptVersion
from app.wiring import Services, build_services
from eval.runner import RunConfig
from models.fakes import FakeEmbedder, FakeLLM
from prompts.registry import LIBRARY, BadPromptRef, PromptRegistry, parse_ref
from prompts.zones import ZONES
from tests.access import Lab as BaseLab
from tests.access import eval_team

VPN_REPLY = "VPN error NWL-VPN-809 means the device certificate expired [1]."
USER = "{context}\n\nQuestion: {question}"
TINY = "\n".join(json.dumps(q) for q in (
    {"id": "q-vpn", "question": "What does VPN error NWL-VPN-809 mean?", "collections": ["kb"],
     "expected_documents": ["vpn.md"], "key_facts": ["certificate expired", "extension 4410"],
     "must_refuse": False, "tags": []},
    {"id": "q-peru", "question": "capital of Peru?", "collections": ["kb"],
     "expected_documents": [], "key_facts": [], "must_refuse": True, "tags": []}))
# a full FakeLLM run of tiny meets this: hit 1, grounded 1, refusals right (key facts 0.5)
GATE = {"set": "tiny", "min": {"hit_at_k": 1.0, "groundedness": 1.0, "refusal_accuracy": 1.0},
        "max": {"false_refusal_rate": 0.0}}
SEED_GATE = PromptRegistry().get("answer@1").gate  # the library file's, as seeded


class Lab(BaseLab):
    def new(self, system: str, gate: dict[str, Any] | None = None) -> str:
        return self.services.prompts.new_version(
            self.principal("eva"), "answer", system=system, user=USER,
            change_note=f"try {system}", gate=gate).ref

    def run(self, prompt: str, set_name: str = "tiny", *, retrieval_only: bool = False,
            wait: bool = True) -> EvalRun:
        return self.services.evals.start(
            self.principal("eva"), set_name,
            RunConfig(prompt=prompt, retrieval_only=retrieval_only),
            readable={"kb"}, wait=wait)

    def promote(self, who: str, ref: str, run_id: str) -> Any:
        return self.client.post(f"/v1/prompts/{ref}/promote", headers=self.as_(who),
                                json={"run_id": run_id})

    def production(self, prompt_id: str = "answer") -> list[int]:
        """Every version of ``prompt_id`` whose zone is production, straight from the table."""
        with self.services.sessions() as session:
            return sorted(session.scalars(select(PromptVersion.version).where(
                PromptVersion.prompt_id == prompt_id, PromptVersion.zone == "production")))

    def zone(self, ref: str) -> str:
        return self.services.prompts.show(ref).zone


@pytest.fixture
def lab(db_settings: Settings, kb: Path) -> Iterator[Lab]:
    llm = FakeLLM([VPN_REPLY])
    app = create_app(db_settings, embedder=FakeEmbedder(), llm=llm)
    with TestClient(app, raise_server_exceptions=False) as client:
        services: Services = app.state.services
        services.collections.upsert("kb", kb, "en")
        services.indexer.sync("kb")
        tokens = eval_team(services)
        admin = services.identity.as_user("admin")
        services.evals.upload_set(admin, "tiny", TINY)
        services.evals.upload_set(admin, "tiny-copy", TINY)  # same questions, another name
        yield Lab(client, services, llm, tokens)


def wait_for(fetch: Callable[[], EvalRun], timeout: float = 20) -> EvalRun:
    deadline = time.monotonic() + timeout
    while (run := fetch()).status in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.05)
    return run


# -- seeding --------------------------------------------------------------------------------
def catalogue_view(services: Services) -> dict[str, Any]:
    return {p.id: (p.production, [(v.version, v.zone, v.author) for v in p.versions])
            for p in services.prompts.catalogue()}


def test_seed_puts_the_first_versions_in_production_once(db_settings: Settings) -> None:
    first = build_services(db_settings, embedder=FakeEmbedder(), llm=FakeLLM())
    try:
        seeded = catalogue_view(first)
        assert seeded == {"answer": (1, [(1, "production", "seed")]),
                          "customer_reply": (1, [(1, "production", "seed")])}
        history = first.prompts.show("answer").history
        assert [(h.action, h.version, h.previous_version, h.run_id, h.by)
                for h in history] == [("seed", 1, None, None, "seed")]
        assert first.prompts.show("answer@1").gate == SEED_GATE
        assert first.prompts.seed() == 0
    finally:
        first.close()
    again = build_services(db_settings, embedder=FakeEmbedder(), llm=FakeLLM())
    try:
        assert catalogue_view(again) == seeded
        assert len(again.prompts.show("answer").history) == 1
    finally:
        again.close()


def test_a_later_library_file_is_seeded_into_exploration(db_settings: Settings,
                                                         tmp_path: Path) -> None:
    services = build_services(db_settings, embedder=FakeEmbedder(), llm=FakeLLM())
    try:
        library = tmp_path / "library"
        library.mkdir()
        shutil.copy(LIBRARY / "answer.v1.toml", library)
        text = (LIBRARY / "answer.v1.toml").read_text(encoding="utf-8")
        (library / "answer.v2.toml").write_text(text.replace("version = 1", "version = 2"),
                                                encoding="utf-8")
        store = PromptStore(services.sessions, services.audit, PromptRegistry(library))
        assert store.seed() == 1
        assert store.seed() == 0
        assert store.show("answer@2").zone == "exploration"
        assert store.get("answer").ref == "answer@1"
    finally:
        services.close()


def _file(library: Path, prompt_id: str, version: int, *, released: bool = False) -> None:
    """A library file of a prompt id no real file uses, copied from answer@1."""
    text = (LIBRARY / "answer.v1.toml").read_text(encoding="utf-8")
    text = text.replace('id = "answer"', f'id = "{prompt_id}"').replace(
        "version = 1", f"version = {version}")
    if released:
        text += '\n[release]\nproduction = true\nrun = "run-1"\n'
    (library / f"{prompt_id}.v{version}.toml").write_text(text, encoding="utf-8")


def test_a_released_version_serves_a_new_database_but_waits_in_an_old_one(
        db_settings: Settings, tmp_path: Path) -> None:
    services = build_services(db_settings, embedder=FakeEmbedder(), llm=FakeLLM())
    try:
        fresh, upgraded = tmp_path / "fresh", tmp_path / "upgraded"
        fresh.mkdir()
        _file(fresh, "faq", 1)
        _file(fresh, "faq", 2, released=True)
        # a database that never had "faq": the released version serves at once
        store = PromptStore(services.sessions, services.audit, PromptRegistry(fresh))
        assert store.seed() == 2
        assert store.get("faq").ref == "faq@2"
        assert store.show("faq@1").zone == "exploration"
        # a database that serves faq@1 already keeps it: the new file waits in exploration
        upgraded.mkdir()
        _file(upgraded, "faq2", 1)
        PromptStore(services.sessions, services.audit, PromptRegistry(upgraded)).seed()
        _file(upgraded, "faq2", 2, released=True)
        later = PromptStore(services.sessions, services.audit, PromptRegistry(upgraded))
        assert later.seed() == 1
        assert later.get("faq2").ref == "faq2@1"
        assert later.show("faq2@2").zone == "exploration"
    finally:
        services.close()


# -- versions -------------------------------------------------------------------------------
def test_new_versions_never_overwrite_and_inherit_the_newest(lab: Lab) -> None:
    prompts = lab.services.prompts
    original = prompts.show("answer@1").template
    assert lab.new("S2") == "answer@2"
    assert lab.new("S3", gate=GATE) == "answer@3"
    r = lab.client.post("/v1/prompts/answer/versions", headers=lab.as_("eva"),
                        json={"system": "S4", "user": USER, "change_note": "over http"})
    assert r.status_code == 201, r.text
    assert (r.json()["ref"], r.json()["zone"], r.json()["author"]) == (
        "answer@4", "exploration", "eva")
    assert prompts.show("answer@1").template == original
    assert prompts.show("answer@1").zone == "production"
    two, three, four = (prompts.show(f"answer@{v}") for v in (2, 3, 4))
    assert two.template.system == "S2" and two.zone == "exploration"
    assert two.gate == SEED_GATE  # no gate given: the newest version's
    assert three.gate == GATE and four.gate == GATE
    assert two.template.context_item == original.context_item
    assert two.template.stop == original.stop
    assert two.change_note == "try S2"
    created = lab.services.audit.latest("prompt_version_created")
    assert created is not None and created["details"]["change_note"] == "over http"
    with pytest.raises(NotFound):
        prompts.new_version(lab.principal("eva"), "nonexistent", system="s", user=USER)


@pytest.mark.parametrize(("fields", "message"), [
    ({"user": "Question: {question}"}, "needs {context} and {question}"),
    ({"user": "{context}"}, "needs {context} and {question}"),
    ({"user": "{context} {question"}, "does not parse"),
    ({"context_item": "<doc>{title}</doc>"}, "must use {text}"),
    ({"context_item": "{text} {password}"}, "may use {n}, {title}, {heading}"),
    ({"system": "   "}, "the system text is empty"),
])
def test_a_version_that_would_not_render_is_refused(lab: Lab, fields: dict[str, str],
                                                    message: str) -> None:
    body = {"system": "S", "user": USER, "change_note": "bad"} | fields
    r = lab.client.post("/v1/prompts/answer/versions", headers=lab.as_("eva"), json=body)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "invalid_template"
    assert message in r.json()["error"]["message"]
    with pytest.raises(InvalidInput, match=re.escape(message)):
        lab.services.prompts.new_version(lab.principal("eva"), "answer", system=body["system"],
                                         user=body["user"],
                                         context_item=body.get("context_item"))
    assert [v.version for v in lab.services.prompts.catalogue()[0].versions] == [1]


def test_a_positional_field_is_refused(lab: Lab) -> None:
    with pytest.raises(InvalidInput):
        lab.services.prompts.new_version(lab.principal("eva"), "answer", system="S",
                                         user="{context} {question} {}")


def test_a_malformed_gate_is_refused(lab: Lab) -> None:
    r = lab.client.post("/v1/prompts/answer/versions", headers=lab.as_("eva"), json={
        "system": "S", "user": USER, "change_note": "bad gate",
        "gate": {"set": "tiny", "min": {"hit_at_k": "high"}}})
    assert r.status_code == 422, r.text


def test_show_of_a_malformed_ref_is_not_found(lab: Lab) -> None:
    assert lab.client.get("/v1/prompts/answer@1", headers=lab.as_("agent")).status_code == 200
    r = lab.client.get("/v1/prompts/answer@abc", headers=lab.as_("agent"))
    assert r.status_code == 404, r.json()


@pytest.mark.parametrize(("ref", "parsed"), [
    ("answer", ("answer", None)), ("answer@3", ("answer", 3)),
    ("customer_reply@12", ("customer_reply", 12))])
def test_a_ref_is_an_id_and_maybe_a_version(ref: str, parsed: tuple[str, int | None]) -> None:
    assert parse_ref(ref) == parsed


@pytest.mark.parametrize("ref", ["", "answer@", "answer@abc", "@3", "answer@1@2", "answer@²",
                                 "answer@-1"])
def test_a_malformed_ref_is_one_clear_error(ref: str) -> None:
    with pytest.raises(BadPromptRef, match=r"is not a prompt reference: name a prompt as id "
                                           r"or id@version, e.g. answer or answer@3$"):
        parse_ref(ref)


# -- zones ----------------------------------------------------------------------------------
def test_get_serves_production_and_a_version_only_from_its_zones(lab: Lab) -> None:
    prompts, eva = lab.services.prompts, lab.principal("eva")
    ref = lab.new("PILOT SYSTEM")
    assert prompts.get("answer").ref == "answer@1"
    assert prompts.get("answer@1").ref == "answer@1"
    with pytest.raises(NotFound, match=r"not found in the production or pilot zone$"):
        prompts.get(ref)  # exploration: evaluation runs only
    assert prompts.get(ref, zones=ZONES).system == "PILOT SYSTEM"
    assert prompts.set_zone(eva, ref, "pilot").zone == "pilot"
    assert prompts.get(ref).ref == ref
    assert prompts.get("answer").ref == "answer@1"  # pilot is opt-in, not the default
    with pytest.raises(InvalidInput) as to_production:
        prompts.set_zone(eva, ref, "production")
    assert to_production.value.code == "invalid_zone"
    with pytest.raises(Conflict) as demote:
        prompts.set_zone(eva, "answer@1", "pilot")
    assert demote.value.code == "in_production"
    with pytest.raises(NotFound):
        prompts.set_zone(eva, "answer@9", "pilot")
    with pytest.raises(NotFound):
        prompts.get("answer@9", zones=ZONES)


def test_an_agent_opts_into_a_pilot_version_from_chat(lab: Lab) -> None:
    c, agent = lab.client, lab.as_("agent")
    r = c.post("/v1/prompts/answer/versions", headers=lab.as_("eva"),
               json={"system": "PILOT SYSTEM", "user": USER, "change_note": "pilot"})
    assert r.status_code == 201
    ask = {"question": "What does VPN error NWL-VPN-809 mean?", "collections": ["kb"],
           "prompt": "answer@2"}
    refused = c.post("/v1/chat", headers=agent, json=ask)
    assert refused.status_code == 404, refused.text  # exploration: not for chat
    assert refused.json()["error"]["code"] == "prompt_not_found"
    assert lab.llm.prompts == []
    assert c.post("/v1/prompts/answer@2/zone", headers=agent,
                  json={"zone": "pilot"}).status_code == 403  # evaluators move zones
    moved = c.post("/v1/prompts/answer@2/zone", headers=lab.as_("eva"), json={"zone": "pilot"})
    assert moved.status_code == 200 and moved.json()["zone"] == "pilot"
    piloted = c.post("/v1/chat", headers=agent, json=ask)
    assert piloted.status_code == 200, piloted.text
    assert piloted.json()["prompt"] == "answer@2"
    assert lab.llm.prompts[-1][0]["content"] == "PILOT SYSTEM"
    stored = c.get(f"/v1/answers/{piloted.json()['answer_id']}", headers=agent).json()
    assert stored["prompt"] == "answer@2"
    default = c.post("/v1/chat", headers=agent, json={k: v for k, v in ask.items()
                                                      if k != "prompt"})
    assert default.json()["prompt"] == "answer@1"
    assert lab.llm.prompts[-1][0]["content"] != "PILOT SYSTEM"


# -- promotion ------------------------------------------------------------------------------
def test_promotion_is_refused_unless_the_run_meets_the_gate(lab: Lab) -> None:
    two = lab.new("S2", gate=GATE)
    three = lab.new("S3", gate={"set": "tiny", "min": {"key_fact_coverage": 0.9}})
    four = lab.new("S4", gate={})
    of_one = lab.run("answer").id
    other_set = lab.run(two, "tiny-copy").id
    retrieval_only = lab.run(two, retrieval_only=True).id
    short = lab.run(three).id
    of_four = lab.run(four).id
    # a run that is still going: the LLM is held until we let go
    lab.llm.gate = threading.Event()
    lab.llm.started.clear()
    going = lab.run(two, wait=False).id
    assert lab.llm.started.wait(10)

    try:
        missing = ["hit_at_k None < 1.0", "groundedness None < 1.0",
                   "refusal_accuracy None < 1.0", "false_refusal_rate None > 0.0"]
        cases = [
            (two, of_one, [f"run {of_one} evaluated answer@1, not {two}"]),
            (two, other_set, [f"run {other_set} used set 'tiny-copy', the gate is 'tiny'"]),
            (two, retrieval_only, ["a retrieval-only run can't promote a prompt",
                                   "groundedness None < 1.0"]),
            (three, short, ["key_fact_coverage 0.5 < 0.9"]),
            (four, of_four, [f"{four} has no gate set"]),
            (two, going, [f"run {going} is running", *missing]),  # no summary yet
            (three, retrieval_only, [f"run {retrieval_only} evaluated {two}, not {three}",
                                     "a retrieval-only run can't promote a prompt",
                                     "key_fact_coverage None < 0.9"]),
        ]
        for ref, run_id, reasons in cases:
            r = lab.promote("admin", ref, run_id)
            assert r.status_code == 409, (ref, r.text)
            assert r.json()["error"] | {"request_id": ""} == {"request_id": "",
                "code": "gate_not_met",
                "message": f"{ref} can't be promoted: " + "; ".join(reasons)}
        assert lab.promote("admin", two, "0" * 32).status_code == 404
        assert lab.production() == [1]
    finally:
        lab.llm.gate.set()

    finished = wait_for(lambda: lab.services.evals.get(going, readable={"kb"}))
    assert finished.status == "succeeded"
    assert finished.summary["key_fact_coverage"] == 0.5  # not in this gate
    r = lab.promote("admin", two, going)
    assert r.status_code == 200, r.text
    assert lab.production() == [2]


def test_promote_then_roll_back(lab: Lab) -> None:
    two = lab.new("S2", gate=GATE)
    run_id = lab.run(two).id
    denied = lab.promote("eva", two, run_id)
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "missing_role"
    assert lab.production() == [1]

    r = lab.promote("admin", two, run_id)
    assert r.status_code == 200, r.text
    assert (r.json()["ref"], r.json()["zone"]) == (two, "production")
    assert lab.zone("answer@1") == "pilot"  # the previous version stays usable by opt-in
    assert lab.production() == [2]
    assert lab.services.prompts.get("answer").ref == two
    last = r.json()["history"][-1]
    assert (last["action"], last["version"], last["previous_version"], last["run_id"],
            last["by"]) == ("promote", 2, 1, run_id, "admin")
    audit = lab.services.audit.latest("prompt_promoted")
    assert audit is not None
    assert (audit["details"]["run_id"], audit["details"]["previous_version"]) == (run_id, 1)
    chat = lab.client.post("/v1/chat", headers=lab.as_("agent"), json={
        "question": "What does VPN error NWL-VPN-809 mean?", "collections": ["kb"]})
    assert chat.json()["prompt"] == two
    again = lab.promote("admin", two, run_id)
    assert again.status_code == 409 and again.json()["error"]["code"] == "in_production"

    assert lab.client.post("/v1/prompts/answer/rollback",
                           headers=lab.as_("eva")).status_code == 403
    assert lab.production() == [2]
    back = lab.client.post("/v1/prompts/answer/rollback", headers=lab.as_("admin"))
    assert back.status_code == 200, back.text
    assert (back.json()["ref"], back.json()["zone"]) == ("answer@1", "production")
    assert lab.zone(two) == "pilot" and lab.production() == [1]
    assert lab.services.prompts.get("answer").ref == "answer@1"
    last = back.json()["history"][-1]
    assert (last["action"], last["version"], last["previous_version"], last["run_id"],
            last["by"]) == ("rollback", 1, 2, None, "admin")
    rolled = lab.services.audit.latest("prompt_rolled_back")
    assert rolled is not None and rolled["details"]["from_version"] == 2
    twice = lab.client.post("/v1/prompts/answer/rollback", headers=lab.as_("admin"))
    assert twice.status_code == 409
    assert twice.json()["error"]["code"] == "nothing_to_roll_back"
    never = lab.client.post("/v1/prompts/customer_reply/rollback", headers=lab.as_("admin"))
    assert never.status_code == 409 and lab.production("customer_reply") == [1]


def test_racing_promotions_leave_one_production_version(lab: Lab) -> None:
    refs = [lab.new(f"S{n}", gate=GATE) for n in (2, 3, 4)]
    runs = {ref: lab.run(ref) for ref in refs}
    admin = lab.principal("admin")
    barrier = threading.Barrier(len(refs))
    outcomes: dict[str, Any] = {}

    def promote(ref: str) -> None:
        try:
            barrier.wait(timeout=10)
            outcomes[ref] = lab.services.prompts.promote(
                admin, ref, runs[ref], gate_set_hash=runs[ref].set_hash)
        except Exception as exc:  # the outcome under test, checked on the main thread
            outcomes[ref] = exc

    threads = [threading.Thread(target=promote, args=(ref,)) for ref in refs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a promotion hung"

    won = [ref for ref, o in outcomes.items() if isinstance(o, PromptDetail)]
    lost = [o for o in outcomes.values() if not isinstance(o, PromptDetail)]
    assert won, outcomes
    assert all(isinstance(o, Conflict) and o.code == "concurrent_change" for o in lost), lost
    assert len(lab.production()) == 1
    history = lab.services.prompts.show("answer").history
    promotions = [h for h in history if h.action == "promote"]
    assert len(promotions) == len(won)
    assert lab.production() == [promotions[-1].version]
    assert {f"answer@{h.version}" for h in promotions} == set(won)


def test_a_run_on_an_older_copy_of_the_gate_set_cannot_promote(lab: Lab) -> None:
    """The gate names a set; the run must have used that set as it is now."""
    two = lab.new("S2", gate=GATE)
    run = lab.run(two)
    admin = lab.principal("admin")
    with pytest.raises(Conflict, match="changed since run"):
        lab.services.prompts.promote(admin, two, run, gate_set_hash="0" * 64)
    assert lab.production() == [1]


@pytest.mark.parametrize("gate", [
    {"set": "tiny", "min": {"hit_at_k": "high"}},
    {"set": "tiny", "min": {"hit_at_k": True}},
    {"set": 3},
    {"set": "tiny", "minimum": {}},
    {"set": "tiny", "max": ["false_refusal_rate"]},
])
def test_every_malformed_gate_shape_is_refused(lab: Lab, gate: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput) as refused:
        lab.services.prompts.new_version(lab.principal("eva"), "answer", system="S",
                                         user="{context} {question}", change_note="x",
                                         gate=gate)
    assert refused.value.code == "invalid_gate"


@pytest.mark.parametrize("user", ["{context} {question.__class__}", "{context[0]} {question}"])
def test_a_template_cannot_reach_into_its_values(lab: Lab, user: str) -> None:
    with pytest.raises(InvalidInput, match="plain names"):
        lab.services.prompts.new_version(lab.principal("eva"), "answer", system="S",
                                         user=user, change_note="x")
