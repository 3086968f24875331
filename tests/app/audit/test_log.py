"""The hash-chained audit trail: chaining, tamper detection, concurrent appends, scrubbing,
filters, exports, settings history, and the admin HTTP endpoints. Every test that touches the
database runs on SQLite and on PostgreSQL (``db_settings``)."""

from __future__ import annotations

import csv
import gc
import io
import itertools
import json
import threading
import time
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select, update
from typer.testing import CliRunner

from app.audit.log import FIELDS, GENESIS, AuditFilter, entry_hash, scrub, to_csv, to_jsonl
from app.audit.tables import AuditEntry, AuditHead
from app.cli.main import cli
from app.core.settings import Settings
from app.main import create_app
from app.wiring import Services, build_services
from models.fakes import FakeEmbedder, FakeLLM
from tests.access import bearer, make_user

SECRET = "hunter2hunter2"

@pytest.fixture
def svc(db_settings: Settings) -> Iterator[Services]:
    built = build_services(db_settings, embedder=FakeEmbedder(), llm=FakeLLM())
    yield built
    built.close()


def record_n(services: Services, n: int) -> list[int]:
    return [services.audit.record(f"user{i % 2}", "searched", f"t{i}", query=f"q{i}", n=i)
            for i in range(1, n + 1)]


def run_sql(services: Services, *statements: Any) -> None:
    """Change the tables behind the audit log's back, as an attacker with DB access would."""
    with services.sessions() as session:
        for stmt in statements:
            session.execute(stmt)
        session.commit()


def rehash(services: Services, seq: int, details: dict[str, Any],
           prev_hash: str | None = None) -> str:
    """Rewrite entry ``seq`` with new details and a self-consistent hash; return that hash."""
    with services.sessions() as session:
        e = session.get(AuditEntry, seq)
        assert e is not None
        prev = e.prev_hash if prev_hash is None else prev_hash
        digest = entry_hash(e.seq, e.at, e.actor, e.action, e.target, details, prev)
        e.details, e.prev_hash, e.hash = details, prev, digest
        session.commit()
    return digest


# -- the chain -----------------------------------------------------------------------------------
def test_record_chains_entries_from_genesis(svc: Services) -> None:
    assert record_n(svc, 5) == [1, 2, 3, 4, 5]
    rows = list(svc.audit.entries())
    assert [r["seq"] for r in rows] == [1, 2, 3, 4, 5]
    assert rows[0]["prev_hash"] == GENESIS == "0" * 64
    for before, after in itertools.pairwise(rows):
        assert after["prev_hash"] == before["hash"]
    assert len({r["hash"] for r in rows}) == 5
    assert rows[2]["details"] == {"query": "q3", "n": 3} and rows[2]["target"] == "t3"
    v = svc.audit.verify()
    assert v.ok and v.entries == 5 and v.head_hash == rows[-1]["hash"]
    assert v.broken_seq is None and v.reason == ""


def test_empty_log_verifies_at_genesis(svc: Services) -> None:
    v = svc.audit.verify()
    assert v.ok and v.entries == 0 and v.head_hash == GENESIS


@pytest.mark.parametrize("values", [{"details": {"query": "forged", "n": 3}},
                                    {"actor": "mallory"},
                                    {"action": "login"}])
def test_row_edited_in_place_is_named(svc: Services, values: dict[str, Any]) -> None:
    record_n(svc, 5)
    assert svc.audit.verify().ok
    run_sql(svc, update(AuditEntry).where(AuditEntry.seq == 3).values(**values))
    v = svc.audit.verify()
    assert not v.ok
    assert v.broken_seq == 3 and v.entries == 2
    assert "entry 3 was changed" in v.reason


def test_deleted_middle_row_is_named_as_missing(svc: Services) -> None:
    record_n(svc, 5)
    run_sql(svc, delete(AuditEntry).where(AuditEntry.seq == 3))
    v = svc.audit.verify()
    assert not v.ok and v.broken_seq == 3 and v.entries == 2
    assert "entry 3 is missing" in v.reason


def test_deleted_first_row_is_named_as_missing(svc: Services) -> None:
    record_n(svc, 3)
    run_sql(svc, delete(AuditEntry).where(AuditEntry.seq == 1))
    v = svc.audit.verify()
    assert not v.ok and v.broken_seq == 1 and v.entries == 0


@pytest.mark.parametrize("removed", [1, 2])
def test_truncated_tail_is_caught_by_the_head_row(svc: Services, removed: int) -> None:
    record_n(svc, 5)
    kept = 5 - removed
    run_sql(svc, delete(AuditEntry).where(AuditEntry.seq > kept))
    v = svc.audit.verify()
    assert not v.ok and v.broken_seq == kept + 1 and v.entries == kept
    assert f"entries after {kept} were removed" in v.reason


def test_rehashed_edit_breaks_the_next_link(svc: Services) -> None:
    record_n(svc, 5)
    rehash(svc, 2, {"query": "rewritten"})
    v = svc.audit.verify()
    assert not v.ok
    assert v.broken_seq == 3 and v.entries == 2  # entry 2 itself is consistent now
    assert "entry 3 does not link to entry 2" in v.reason


def test_rehashed_last_entry_is_caught_by_the_head_row(svc: Services) -> None:
    record_n(svc, 4)
    rehash(svc, 4, {"query": "rewritten"})
    v = svc.audit.verify()
    assert not v.ok and v.broken_seq == 4 and "entry 4 was changed" in v.reason


def test_full_tail_rewrite_passes_but_changes_the_head_hash(svc: Services) -> None:
    """The documented limit: rewriting every later hash and the head row passes ``verify``;
    only the head hash kept elsewhere shows it."""
    record_n(svc, 4)
    original = svc.audit.verify()
    digest = rehash(svc, 2, {"query": "rewritten"})
    details = {r["seq"]: r["details"] for r in svc.audit.entries()}
    for seq in (3, 4):
        digest = rehash(svc, seq, details[seq], prev_hash=digest)
    run_sql(svc, update(AuditHead).where(AuditHead.id == 1).values(hash=digest))
    forged = svc.audit.verify()
    assert forged.ok and forged.entries == 4
    assert forged.head_hash != original.head_hash


def test_cli_verify_exit_status_and_broken_entry(
        svc: Services, db_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VRAAGBAAK_DATA_DIR", str(db_settings.data_dir))
    monkeypatch.setenv("VRAAGBAAK_DATABASE_URL", db_settings.database_url)
    monkeypatch.setenv("VRAAGBAAK_WARM_UP", "false")
    monkeypatch.setenv("COLUMNS", "200")
    record_n(svc, 4)
    head = svc.audit.verify().head_hash
    runner = CliRunner()

    intact = runner.invoke(cli, ["audit", "verify"])
    assert intact.exit_code == 0, intact.output
    assert "intact: 4 entries" in intact.stdout and head in intact.stdout

    run_sql(svc, update(AuditEntry).where(AuditEntry.seq == 3).values(actor="mallory"))
    broken = runner.invoke(cli, ["audit", "verify"])
    assert broken.exit_code == 1
    assert "BROKEN at entry 3" in broken.stderr
    assert "intact" not in broken.output


@pytest.mark.postgres
def test_verify_closes_its_postgresql_cursor(pg_url: str, tmp_path: Path) -> None:
    services = build_services(Settings(data_dir=tmp_path / "data", database_url=pg_url),
                              embedder=FakeEmbedder(), llm=FakeLLM())
    try:
        record_n(services, 3)
        run_sql(services, delete(AuditEntry).where(AuditEntry.seq == 2))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert services.audit.verify().broken_seq == 2
            first = services.audit.entries()
            assert next(first)["seq"] == 1
            first.close()  # type: ignore[attr-defined]  # as when a client hangs up
            gc.collect()
        leaks = [w for w in caught if issubclass(w.category, ResourceWarning)]
        assert leaks == []
    finally:
        services.close()


# -- concurrent appends --------------------------------------------------------------------------
def append_concurrently(instances: list[Services], threads: int, each: int) -> list[int]:
    start = threading.Barrier(threads)

    def worker(i: int) -> list[int]:
        log = instances[i % len(instances)].audit
        start.wait(timeout=30)
        return [log.record(f"w{i}", "searched", str(j), j=j) for j in range(each)]

    with ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(worker, range(threads)))
    return sorted(seq for seqs in results for seq in seqs)


def test_threads_appending_at_once_keep_one_chain(svc: Services) -> None:
    seqs = append_concurrently([svc], threads=4, each=25)
    assert seqs == list(range(1, 101))
    v = svc.audit.verify()
    assert v.ok, v.reason
    assert v.entries == 100
    per_writer = {w: sum(1 for r in svc.audit.entries() if r["actor"] == w)
                  for w in ("w0", "w1", "w2", "w3")}
    assert per_writer == {"w0": 25, "w1": 25, "w2": 25, "w3": 25}


def test_two_processes_appending_at_once_keep_one_chain(
        svc: Services, db_settings: Settings) -> None:
    other = build_services(db_settings, embedder=FakeEmbedder(), llm=FakeLLM())
    try:
        seqs = append_concurrently([svc, other], threads=4, each=25)
        assert seqs == list(range(1, 101))
        for instance in (svc, other):
            v = instance.audit.verify()
            assert v.ok and v.entries == 100, v.reason
    finally:
        other.close()


# -- scrubbing -----------------------------------------------------------------------------------
def test_scrub_redacts_secret_keys_at_any_depth() -> None:
    clean = scrub({
        "user": "alice",
        "password": "p",
        "New_Password": "p",
        "client_secret": "s",
        "token": "t",
        "nested": {"API_KEY": "k", "level": [{"session_cookie": "c", "ok": 1},
                                               {"Authorization": "Bearer x"}]},
    })
    assert clean == {
        "user": "alice",
        "password": "[redacted]",
        "New_Password": "[redacted]",
        "client_secret": "[redacted]",
        "token": "[redacted]",
        "nested": {"API_KEY": "[redacted]", "level": [{"session_cookie": "[redacted]", "ok": 1},
                                                      {"Authorization": "[redacted]"}]},
    }


def test_scrub_redacts_whole_subtree_under_a_secret_key() -> None:
    assert scrub({"secret": {"a": 1, "b": [2]}}) == {"secret": "[redacted]"}


def test_scrub_makes_values_json_safe() -> None:
    clean = scrub({"when": datetime(2024, 5, 1, 12, 0, tzinfo=UTC), "day": date(2024, 5, 1),
                   "path": Path("/srv/kb"), "amount": Decimal("1.50"), 7: "int key",
                   "tags": {"b", "a"}, "pair": (1, "x"), "plain": [None, True, 3, 2.5, "s"]})
    assert clean == {"when": "2024-05-01 12:00:00+00:00", "day": "2024-05-01",
                     "path": "/srv/kb", "amount": "1.50", "7": "int key",
                     "tags": ["a", "b"], "pair": [1, "x"], "plain": [None, True, 3, 2.5, "s"]}
    assert json.loads(json.dumps(clean)) == clean


def test_scrub_leaves_ordinary_values_alone() -> None:
    details = {"query": "reset my password?", "collection": "kb", "count": 3}
    assert scrub(details) == details  # a *value* that mentions a secret word is kept


def test_recorded_secret_never_leaves_the_database(svc: Services) -> None:
    seq = svc.audit.record("alice", "user_changed", "alice", password=SECRET,
                           nested={"refresh_token": SECRET, "list": [{"cookie": SECRET}]},
                           note="kept")
    with svc.sessions() as session:
        stored = session.scalars(select(AuditEntry).where(AuditEntry.seq == seq)).one()
        assert SECRET not in json.dumps(stored.details)
    [row] = list(svc.audit.entries())
    assert row["details"] == {"password": "[redacted]", "note": "kept",
                              "nested": {"refresh_token": "[redacted]",
                                         "list": [{"cookie": "[redacted]"}]}}
    for text in (json.dumps(row), "".join(to_jsonl(svc.audit.entries())),
                 "".join(to_csv(svc.audit.entries()))):
        assert SECRET not in text
        assert "kept" in text
    assert svc.audit.verify().ok  # the hash covers the scrubbed details


# -- filters and exports -------------------------------------------------------------------------
def test_entries_filter_by_actor_action_and_limit(svc: Services) -> None:
    svc.audit.record("alice", "login")
    svc.audit.record("bob", "login_failed")
    svc.audit.record("alice", "searched", query="vpn")
    svc.audit.record("alice", "login_failed")

    def seqs(**kw: Any) -> list[int]:
        return [r["seq"] for r in svc.audit.entries(AuditFilter(**kw))]

    assert seqs() == [1, 2, 3, 4]
    assert seqs(actor="alice") == [1, 3, 4]
    assert seqs(action="login_failed") == [2, 4]
    assert seqs(actor="alice", action="login_failed") == [4]
    assert seqs(actor="carol") == []
    assert seqs(limit=2) == [1, 2]
    assert seqs(actor="alice", limit=2) == [1, 3]


def test_entries_filter_by_time_accepts_aware_and_naive(svc: Services) -> None:
    svc.audit.record("a", "one")
    svc.audit.record("a", "two")
    time.sleep(0.01)
    boundary = datetime.now(UTC)
    time.sleep(0.01)
    svc.audit.record("a", "three")

    def seqs(**kw: Any) -> list[int]:
        return [r["seq"] for r in svc.audit.entries(AuditFilter(**kw))]

    cest = timezone(timedelta(hours=2))
    for spelling in (boundary, boundary.replace(tzinfo=None), boundary.astimezone(cest)):
        assert seqs(since=spelling) == [3], spelling
        assert seqs(until=spelling) == [1, 2], spelling
    assert seqs(since=boundary - timedelta(hours=1), until=boundary + timedelta(hours=1)) \
        == [1, 2, 3]
    assert seqs(since=boundary + timedelta(hours=1)) == []
    # a naive time is UTC, not local: shifted by two hours it selects something else
    assert seqs(since=boundary.astimezone(cest).replace(tzinfo=None)) == []


def test_to_jsonl_is_one_object_per_line(svc: Services) -> None:
    svc.audit.record("alice", "login", client="10.0.0.1")
    svc.audit.record("bob", "searched", "kb", query="naïve café")
    lines = list(to_jsonl(svc.audit.entries()))
    assert len(lines) == 2 and all(line.endswith("\n") for line in lines)
    assert "".join(lines).count("\n") == 2
    rows = [json.loads(line) for line in lines]
    assert all(set(r) == set(FIELDS) for r in rows)
    assert [r["seq"] for r in rows] == [1, 2]
    assert rows[1]["details"] == {"query": "naïve café"} and rows[1]["target"] == "kb"
    assert rows[1]["prev_hash"] == rows[0]["hash"]
    assert datetime.strptime(rows[0]["at"], "%Y-%m-%dT%H:%M:%S.%fZ")


def test_to_csv_parses_back_with_details_as_json(svc: Services) -> None:
    svc.audit.record("alice", "login", client="10.0.0.1")
    svc.audit.record("bob", "searched", "kb", query='comma, "quote"\nnewline')
    text = "".join(to_csv(svc.audit.entries()))
    header, *rows = list(csv.reader(io.StringIO(text)))
    assert header == list(FIELDS)
    assert len(rows) == 2
    parsed = [dict(zip(header, r, strict=True)) for r in rows]
    assert [p["seq"] for p in parsed] == ["1", "2"]
    assert parsed[0]["actor"] == "alice" and parsed[1]["target"] == "kb"
    assert json.loads(parsed[1]["details"]) == {"query": 'comma, "quote"\nnewline'}
    expected = list(svc.audit.entries())
    assert [p["hash"] for p in parsed] == [e["hash"] for e in expected]


def test_to_csv_defuses_spreadsheet_formulas(svc: Services) -> None:
    svc.audit.record("=cmd|' /C calc'!A0", "searched", "+kb", query="=1+1")
    svc.audit.record("alice", "searched", "@SUM(A1)")
    text = "".join(to_csv(svc.audit.entries()))
    _, first, second = list(csv.reader(io.StringIO(text)))
    actor, target, details = first[2], first[4], first[5]
    assert actor == "'=cmd|' /C calc'!A0" and target == "'+kb"
    assert json.loads(details) == {"query": "=1+1"}  # a JSON object starts with "{"
    assert second[4] == "'@SUM(A1)" and second[2] == "alice"
    # the JSON lines export keeps every value exact
    rows = [json.loads(line) for line in to_jsonl(svc.audit.entries())]
    assert rows[0]["actor"] == "=cmd|' /C calc'!A0" and rows[1]["target"] == "@SUM(A1)"


def test_to_csv_of_nothing_is_just_the_header(svc: Services) -> None:
    assert list(csv.reader(io.StringIO("".join(to_csv(svc.audit.entries()))))) == [
        list(FIELDS)]


# -- settings history ----------------------------------------------------------------------------
def test_record_settings_only_when_they_change(svc: Services) -> None:
    first = {"llm.backend": "llamacpp", "llm.api_key": "sk-live-123456",
             "retrieval.rrf_k": 10, "data_dir": "data"}
    seq = svc.audit.record_settings(first)
    assert seq == 1
    entry = svc.audit.latest("settings_changed")
    assert entry is not None and entry["seq"] == 1
    assert entry["details"]["changed"] == sorted(first)
    assert entry["details"]["settings"]["llm.api_key"] == "[redacted]"
    assert entry["details"]["settings"]["retrieval.rrf_k"] == 10
    assert "sk-live-123456" not in "".join(to_jsonl(svc.audit.entries()))

    assert svc.audit.record_settings(dict(first)) is None
    assert len(list(svc.audit.entries())) == 1

    second = first | {"retrieval.rrf_k": 60}
    assert svc.audit.record_settings(second) == 2
    entry = svc.audit.latest("settings_changed")
    assert entry is not None
    assert entry["details"]["changed"] == ["retrieval.rrf_k"]
    assert entry["details"]["settings"]["retrieval.rrf_k"] == 60

    removed = {k: v for k, v in second.items() if k != "data_dir"}
    assert svc.audit.record_settings(removed) == 3
    entry = svc.audit.latest("settings_changed")
    assert entry is not None and entry["details"]["changed"] == ["data_dir"]
    assert svc.audit.verify().ok


def test_record_settings_takes_the_real_settings_view(svc: Services) -> None:
    view = Settings(retrieval={"rrf_k": 10}).audit_view()
    assert svc.audit.record_settings(view) == 1
    assert svc.audit.record_settings(Settings().audit_view()) is None
    changed = Settings(retrieval={"rrf_k": 33}).audit_view()
    assert svc.audit.record_settings(changed) == 2
    entry = svc.audit.latest("settings_changed")
    assert entry is not None and entry["details"]["changed"] == ["retrieval.rrf_k"]


def test_record_settings_sees_a_change_to_a_token_lifetime(svc: Services) -> None:
    svc.audit.record_settings(Settings().audit_view())
    changed = Settings(auth={"token_days": 7}).audit_view()
    assert svc.audit.record_settings(changed) is not None


# -- the HTTP endpoints --------------------------------------------------------------------------
@pytest.fixture
def api(db_settings: Settings) -> Iterator[TestClient]:
    app = create_app(db_settings, embedder=FakeEmbedder(), llm=FakeLLM())
    with TestClient(app) as client:
        yield client


def services_of(client: TestClient) -> Services:
    services: Services = client.app.state.services  # type: ignore[attr-defined]
    return services


def export_rows(client: TestClient, token: str, **params: Any) -> list[dict[str, Any]]:
    r = client.get("/v1/admin/audit", params=params, headers=bearer(token))
    assert r.status_code == 200, r.text
    return [json.loads(line) for line in r.text.splitlines()]


def test_admin_exports_jsonl_by_default(api: TestClient) -> None:
    admin = make_user(services_of(api), "root", ["admin"])
    r = api.get("/v1/admin/audit", headers=bearer(admin))
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/x-ndjson")
    rows = [json.loads(line) for line in r.text.splitlines()]
    assert rows[0]["action"] == "settings_changed"  # written when the app started
    assert rows[-1]["action"] == "audit_exported" and rows[-1]["actor"] == "root"
    assert rows[-1]["details"]["format"] == "jsonl"
    assert [r["seq"] for r in rows] == list(range(1, len(rows) + 1))


def test_admin_exports_csv(api: TestClient) -> None:
    admin = make_user(services_of(api), "root", ["admin"])
    r = api.get("/v1/admin/audit", params={"format": "csv"}, headers=bearer(admin))
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    header, *rows = list(csv.reader(io.StringIO(r.text)))
    assert header == list(FIELDS)
    assert rows[-1][FIELDS.index("action")] == "audit_exported"
    assert json.loads(rows[-1][FIELDS.index("details")])["format"] == "csv"
    assert api.get("/v1/admin/audit", params={"format": "xml"},
                   headers=bearer(admin)).status_code == 422


def test_admin_export_filters(api: TestClient) -> None:
    services = services_of(api)
    admin = make_user(services, "root", ["admin"])
    services.audit.record("alice", "login")
    services.audit.record("bob", "login_failed")
    services.audit.record("alice", "login_failed")
    assert [(r["actor"], r["action"]) for r in export_rows(api, admin, actor="alice")] == [
        ("alice", "login"), ("alice", "login_failed")]
    assert [r["actor"] for r in export_rows(api, admin, action="login_failed")] == [
        "bob", "alice"]
    assert export_rows(api, admin, actor="alice", action="login_failed", limit=5)[0][
        "action"] == "login_failed"
    assert export_rows(api, admin, actor="nobody") == []


def test_each_export_is_itself_audited(api: TestClient) -> None:
    admin = make_user(services_of(api), "root", ["admin"])
    export_rows(api, admin, action="login")
    export_rows(api, admin)
    exports = export_rows(api, admin, action="audit_exported")
    assert len(exports) == 3
    assert exports[0]["details"]["filter"]["action"] == "login"
    assert all(e["actor"] == "root" for e in exports)


def test_audit_endpoints_need_the_admin_role(api: TestClient) -> None:
    services = services_of(api)
    agent = make_user(services, "agent1", ["agent", "reviewer"])
    before = services.audit.verify().entries
    for path in ("/v1/admin/audit", "/v1/admin/audit/verify"):
        assert api.get(path, headers=bearer(agent)).status_code == 403
        assert api.get(path).status_code == 401
    assert services.audit.verify().entries == before  # a refused export is not an export


def test_verify_endpoint_reports_intact_and_broken(api: TestClient) -> None:
    services = services_of(api)
    admin = make_user(services, "root", ["admin"])
    services.audit.record("alice", "login")
    services.audit.record("alice", "searched", query="vpn")
    ok = api.get("/v1/admin/audit/verify", headers=bearer(admin)).json()
    assert ok["ok"] is True and ok["broken_seq"] is None
    assert ok["entries"] == 3 and ok["head_hash"] == services.audit.verify().head_hash
    run_sql(services, update(AuditEntry).where(AuditEntry.seq == 2).values(actor="mallory"))
    broken = api.get("/v1/admin/audit/verify", headers=bearer(admin)).json()
    assert broken["ok"] is False and broken["broken_seq"] == 2


def test_failed_login_is_audited_without_the_password(api: TestClient) -> None:
    services = services_of(api)
    admin = make_user(services, "root", ["admin"])
    make_user(services, "carol", ["agent"], password="correct-horse-battery")
    wrong = "wrong-" + SECRET
    r = api.post("/v1/auth/login", json={"username": "carol", "password": wrong})
    assert r.status_code == 401
    ok = api.post("/v1/auth/login", json={"username": "carol",
                                           "password": "correct-horse-battery"})
    assert ok.status_code == 200
    failed = export_rows(api, admin, action="login_failed")
    assert [f["actor"] for f in failed] == ["carol"]
    assert [e["actor"] for e in export_rows(api, admin, action="login")] == ["carol"]
    everything = api.get("/v1/admin/audit", headers=bearer(admin)).text
    everything += api.get("/v1/admin/audit", params={"format": "csv"},
                          headers=bearer(admin)).text
    assert wrong not in everything and SECRET not in everything
    assert "correct-horse-battery" not in everything


def test_token_creation_is_audited_by_prefix_not_secret(api: TestClient) -> None:
    services = services_of(api)
    admin = make_user(services, "root", ["admin"])
    dave = make_user(services, "dave", ["agent"])
    r = api.post("/v1/me/tokens", json={"name": "laptop"}, headers=bearer(dave))
    assert r.status_code == 201
    body = r.json()
    token, prefix = body["token"], body["prefix"]
    assert token.startswith(prefix + "_")
    secret = token[len(prefix) + 1:]
    [created] = export_rows(api, admin, action="token_created")
    assert created["actor"] == "dave" and created["target"] == "dave"
    assert created["details"]["prefix"] == prefix and created["details"]["name"] == "laptop"
    everything = api.get("/v1/admin/audit", headers=bearer(admin)).text
    everything += api.get("/v1/admin/audit", params={"format": "csv"},
                          headers=bearer(admin)).text
    assert prefix in everything
    assert token not in everything and secret not in everything
    assert api.get("/v1/me", headers=bearer(token)).json()["username"] == "dave"


def test_token_creation_names_the_token_id(api: TestClient) -> None:
    services = services_of(api)
    admin = make_user(services, "root", ["admin"])
    dave = make_user(services, "dave", ["agent"])
    body = api.post("/v1/me/tokens", json={}, headers=bearer(dave)).json()
    [created] = export_rows(api, admin, action="token_created")
    assert created["details"]["token_id"] == body["id"]
