"""Sign-in, sessions and CSRF, token life cycle, disabled accounts, and the limits against
unbounded use (rate, body size, answer tokens). Secrets never reach a log or the audit trail."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from app.core.settings import AuthSettings, LLMSettings, RetrievalSettings, Settings
from app.core.tables import utcnow
from app.identity.tables import ApiToken
from app.main import create_app
from app.wiring import Services
from models.fakes import FakeEmbedder, FakeLLM
from tests.access import bearer, make_user, served_routes, without_request_id

PASSWORD = "correct horse battery staple"


@pytest.fixture
def app_settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", retrieval=RetrievalSettings(min_dense_score=0.2),
                    auth=AuthSettings(chat_rate="3/minute", login_rate="5/minute",
                                      max_body_kb=16),
                    llm=LLMSettings(max_answer_tokens=64))


@pytest.fixture
def api(app_settings: Settings, kb: Path, fake_llm: FakeLLM) -> Iterator[TestClient]:
    with TestClient(create_app(app_settings, embedder=FakeEmbedder(), llm=fake_llm),
                    raise_server_exceptions=False) as c:
        services: Services = c.app.state.services  # type: ignore[attr-defined]
        services.collections.upsert("kb", kb, "en")
        services.indexer.sync("kb")
        services.access.set_grants("kb", everyone=True)
        make_user(services, "alice", ["agent"], password=PASSWORD)
        yield c


def services_of(client: TestClient) -> Services:
    return client.app.state.services  # type: ignore[attr-defined,no-any-return]


def test_every_route_but_health_needs_credentials(api: TestClient) -> None:
    open_paths = {"/healthz", "/readyz", "/v1/auth/login"}
    checked = 0
    for method, path in sorted(served_routes(api)):
        if path in open_paths:
            continue
        r = api.request(method, path.replace("{", "x").replace("}", ""))
        assert r.status_code == 401, (method, path, r.status_code)
        assert r.json()["error"]["code"] == "unauthorized"
        checked += 1
    assert checked > 40


def test_password_sign_in_gives_a_cookie_session_guarded_by_csrf(api: TestClient) -> None:
    r = api.post("/v1/auth/login", json={"username": "alice", "password": PASSWORD})
    assert r.status_code == 200, r.text
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    csrf = r.json()["csrf_token"]
    assert api.get("/v1/me").json()["username"] == "alice"  # reads need only the cookie
    q = {"question": "VPN error NWL-VPN-809"}
    forged = api.post("/v1/chat", json=q)  # what a cross-site form post would look like
    assert forged.status_code == 401 and forged.json()["error"]["code"] == "csrf_failed"
    assert api.post("/v1/chat", json=q, headers={"X-CSRF-Token": "wrong"}).status_code == 401
    assert api.post("/v1/chat", json=q, headers={"X-CSRF-Token": csrf}).status_code == 200
    assert api.post("/v1/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    api.cookies.clear()
    assert api.get("/v1/me").status_code == 401


def test_session_cookie_stops_working_after_logout_even_if_kept(api: TestClient) -> None:
    r = api.post("/v1/auth/login", json={"username": "alice", "password": PASSWORD})
    secret = r.cookies["vraagbaak_session"]
    api.post("/v1/auth/logout", headers={"X-CSRF-Token": r.json()["csrf_token"]})
    api.cookies.set("vraagbaak_session", secret)
    assert api.get("/v1/me").json()["error"]["code"] == "session_expired"


def test_wrong_password_and_unknown_user_look_the_same(api: TestClient) -> None:
    wrong = api.post("/v1/auth/login", json={"username": "alice", "password": "nope" * 4})
    unknown = api.post("/v1/auth/login", json={"username": "mallory", "password": "x" * 16})
    assert wrong.status_code == unknown.status_code == 401
    assert without_request_id(wrong.json()) == without_request_id(unknown.json())
    assert "set-cookie" not in wrong.headers


def test_guessing_a_password_is_rate_limited(api: TestClient) -> None:
    codes = [api.post("/v1/auth/login", json={"username": "alice", "password": f"guess{i}"})
             .status_code for i in range(6)]
    assert codes == [401] * 5 + [429]
    # the right password is refused too until the window passes: no guessing through it
    r = api.post("/v1/auth/login", json={"username": "alice", "password": PASSWORD})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1


def test_token_life_cycle(api: TestClient) -> None:
    services = services_of(api)
    token = make_user(services, "bob", ["agent"])
    me = bearer(token)
    created = api.post("/v1/me/tokens", json={"name": "laptop", "expires_days": 7}, headers=me)
    assert created.status_code == 201
    new = created.json()["token"]
    assert new.startswith("vbk_") and created.json()["prefix"] in new
    listed = api.get("/v1/me/tokens", headers=bearer(new)).json()["tokens"]
    assert {t["name"] for t in listed} == {"test", "laptop"}
    assert new not in str(listed) and token not in str(listed)  # prefixes only
    with services.sessions() as s:  # stored hashed: the secret is nowhere in the table
        rows = s.query(ApiToken).all()
        assert all(new not in (r.token_hash + r.prefix) for r in rows)
    revoked = api.delete(f"/v1/me/tokens/{created.json()['id']}", headers=me)
    assert revoked.json()["revoked"] is True
    r = api.get("/v1/me", headers=bearer(new))
    assert r.status_code == 401 and r.json()["error"]["code"] == "token_revoked"
    assert api.get("/v1/me", headers=me).status_code == 200  # the other token still works


def test_someone_elses_token_cannot_be_revoked_through_me(api: TestClient) -> None:
    services = services_of(api)
    bob, carol = make_user(services, "bob", ["agent"]), make_user(services, "carol", ["agent"])
    carol_token = api.get("/v1/me/tokens", headers=bearer(carol)).json()["tokens"][0]
    r = api.delete(f"/v1/me/tokens/{carol_token['id']}", headers=bearer(bob))
    assert r.status_code == 404
    assert api.get("/v1/me", headers=bearer(carol)).status_code == 200


def test_expired_and_malformed_tokens(api: TestClient) -> None:
    services = services_of(api)
    token = make_user(services, "dave", ["agent"])
    with services.sessions() as s:
        s.execute(update(ApiToken).values(expires_at=utcnow() - timedelta(seconds=1)))
        s.commit()
    assert api.get("/v1/me", headers=bearer(token)).json()["error"]["code"] == "token_expired"
    for bad in ("vbk_x", "not-a-token", token[:-2] + "zz"):
        assert api.get("/v1/me", headers=bearer(bad)).status_code == 401


def test_disabling_a_user_ends_their_tokens(api: TestClient) -> None:
    services = services_of(api)
    admin, eve = make_user(services, "root", ["admin"]), make_user(services, "eve", ["agent"])
    assert api.get("/v1/me", headers=bearer(eve)).status_code == 200
    r = api.patch("/v1/admin/users/eve", json={"active": False}, headers=bearer(admin))
    assert r.status_code == 200 and r.json()["active"] is False
    assert api.get("/v1/me", headers=bearer(eve)).status_code == 401
    r = api.post("/v1/auth/login", json={"username": "eve", "password": "whatever-long"})
    assert r.status_code == 401


def test_admin_manages_users_teams_and_tokens(api: TestClient) -> None:
    admin = bearer(make_user(services_of(api), "root", ["admin"]))
    assert api.post("/v1/admin/teams", json={"name": "hr"}, headers=admin).status_code == 201
    assert api.post("/v1/admin/teams", json={"name": "hr"}, headers=admin).status_code == 409
    r = api.post("/v1/admin/users", headers=admin, json={
        "username": "frank", "roles": ["agent", "reviewer"], "teams": ["hr"],
        "password": PASSWORD})
    assert r.status_code == 201 and r.json()["teams"] == ["hr"]
    assert PASSWORD not in r.text and r.json()["password_set"] and "id" not in r.json()
    bad = api.post("/v1/admin/users", headers=admin, json={"username": "g", "roles": ["boss"]})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_role"
    weak = api.post("/v1/admin/users", headers=admin,
                    json={"username": "h", "roles": ["agent"], "password": "short"})
    assert weak.json()["error"]["code"] == "weak_password"
    nobody = api.post("/v1/admin/users", headers=admin,
                      json={"username": "i", "roles": ["agent"], "teams": ["nope"]})
    assert nobody.status_code == 404
    token = api.post("/v1/admin/users/frank/tokens", json={}, headers=admin).json()
    assert api.get("/v1/me", headers=bearer(token["token"])).json()["teams"] == ["hr"]
    assert api.delete(f"/v1/admin/tokens/{token['id']}", headers=admin).status_code == 200
    assert api.get("/v1/me", headers=bearer(token["token"])).status_code == 401


def test_chat_is_rate_limited_per_token(api: TestClient) -> None:
    services = services_of(api)
    one, two = bearer(make_user(services, "u1", ["agent"])), bearer(
        make_user(services, "u2", ["agent"]))
    q = {"question": "VPN error NWL-VPN-809"}
    codes = [api.post("/v1/chat", json=q, headers=one).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    r = api.post("/v1/chat/completions", headers=one,
                 json={"messages": [{"role": "user", "content": "vpn"}]})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    assert r.json()["error"]["code"] == "rate_limited"
    assert api.post("/v1/chat", json=q, headers=two).status_code == 200  # its own budget
    assert api.get("/v1/search", params={"q": "vpn"}, headers=one).status_code == 200


def test_request_body_over_the_limit_gets_413(api: TestClient) -> None:
    headers = bearer(make_user(services_of(api), "u3", ["agent"]))
    r = api.post("/v1/chat", json={"question": "x" * 20_000}, headers=headers)
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "payload_too_large"

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield b'{"question": "'
        for _ in range(40):
            yield b"y" * 1024
        yield b'"}'

    r = api.post("/v1/chat", content=chunks(),
                 headers=headers | {"content-type": "application/json"})
    assert r.status_code == 413, r.text


def test_answer_tokens_are_capped(api: TestClient, fake_llm: FakeLLM) -> None:
    headers = bearer(make_user(services_of(api), "u4", ["agent"]))
    msg = [{"role": "user", "content": "VPN error NWL-VPN-809"}]
    api.post("/v1/chat/completions", json={"messages": msg, "max_tokens": 5000},
             headers=headers)
    api.post("/v1/chat/completions", json={"messages": msg, "max_tokens": 10}, headers=headers)
    # the server's cap (64 here) and answer@2's own (60), whichever is lower
    assert fake_llm.max_tokens == [60, 10]


def test_no_secret_reaches_the_logs_or_the_audit_trail(
        api: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    api.post("/v1/auth/login", json={"username": "alice", "password": "wrong " + PASSWORD})
    r = api.post("/v1/auth/login", json={"username": "alice", "password": PASSWORD})
    csrf, cookie = r.json()["csrf_token"], r.cookies["vraagbaak_session"]
    token = api.post("/v1/me/tokens", json={"name": "ci"},
                     headers={"X-CSRF-Token": csrf}).json()["token"]
    audit = "".join(str(e) for e in services_of(api).audit.entries())
    logs = caplog.text
    for secret in (PASSWORD, csrf, cookie, token):
        assert secret not in audit and secret not in logs
    assert "login_failed" in audit and "token_created" in audit
