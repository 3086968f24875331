"""Single sign-on against a real OIDC provider process (``oidc-provider-mock``, started here).

The test plays the browser: it follows the app's redirect to the provider, submits the
provider's sign-in form for a subject whose claims it set through the provider's
``PUT /users/{sub}``, and brings the provider's redirect back to the app. A second provider
process issues ID tokens that expired 5 minutes before they were issued (``-e -300``).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import httpx
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient
from pydantic import SecretStr, ValidationError
from sqlalchemy import event, inspect
from sqlalchemy.orm import ORMExecuteState, Session

from app.core.settings import OIDCSettings, Settings
from app.core.tables import Base
from app.identity.records import OIDCSync
from app.identity.tables import User as UserRow
from app.main import create_app
from app.wiring import Services, build_services
from models.fakes import FakeEmbedder, FakeLLM
from tests.access import make_user
from tests.oidc_provider import free_port, run_provider, set_claims

PASSWORD = "correct horse battery staple"
GROUP_ROLES: dict[str, list[Any]] = {"helpdesk": ["agent"], "it-admins": ["admin"]}
GROUP_TEAMS = {"helpdesk": ["support"], "it-admins": ["it", "support"]}


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    yield from run_provider()


@pytest.fixture(scope="module")
def expired_provider() -> Iterator[str]:
    yield from run_provider("--token-max-age", "-300")


def oidc(provider: str, **changes: Any) -> OIDCSettings:
    fields: dict[str, Any] = {
        "discovery_url": f"{provider}/.well-known/openid-configuration",
        "provider_name": "Example IdP", "client_id": "vraagbaak",
        "client_secret": SecretStr("client-secret-for-tests"),
        "group_roles": GROUP_ROLES, "group_teams": GROUP_TEAMS} | changes
    return OIDCSettings(**fields)


def start(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings, embedder=FakeEmbedder(), llm=FakeLLM(["x"]))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def web(db_settings: Settings, provider: str) -> Iterator[TestClient]:
    """The app with single sign-on, on SQLite and on PostgreSQL."""
    yield from start(db_settings.model_copy(update={"oidc": oidc(provider)}))


def services_of(client: TestClient) -> Services:
    return client.app.state.services  # type: ignore[attr-defined,no-any-return]


def to_provider(client: TestClient, sub: str, next: str = "/ask") -> str:
    """Start a sign-in and sign in as ``sub`` at the provider: the callback URL it sends the
    browser back to (carrying code and state)."""
    started = client.get("/signin/oidc", params={"next": next}, follow_redirects=False)
    assert started.status_code == 303, started.text
    asked = parse_qs(urlparse(started.headers["location"]).query)
    assert asked["code_challenge_method"] == ["S256"] and asked["nonce"] and asked["state"]
    back = httpx.post(started.headers["location"], data={"sub": sub})
    assert back.status_code == 302, back.text
    return back.headers["location"]


def sso(client: TestClient, sub: str, next: str = "/ask") -> Any:
    """The app's answer to the provider's redirect back (the callback)."""
    return client.get(to_provider(client, sub, next), follow_redirects=False)


def audit(client: TestClient, action: str) -> list[dict[str, Any]]:
    return [e for e in services_of(client).audit.entries() if e["action"] == action]


def test_a_first_sign_in_creates_the_user_with_the_teams_and_roles_of_their_groups(
        web: TestClient, provider: str) -> None:
    set_claims(provider, "sub-alice", preferred_username="Alice.Smith@corp.example",
               name="Alice Smith", groups=["helpdesk", "not-mapped"])
    done = sso(web, "sub-alice", next="/ask")
    assert done.status_code == 200, done.text
    assert 'http-equiv="refresh" content="0; url=/ask"' in done.text
    assert "vraagbaak_session=" in done.headers.get("set-cookie", "")
    me = web.get("/v1/me").json()
    assert me["username"] == "alice.smith_corp.example"
    assert me["roles"] == ["agent"] and me["teams"] == ["support"]
    user = services_of(web).users.get("alice.smith_corp.example")
    assert user.display_name == "Alice Smith" and not user.password_set  # no password
    with services_of(web).sessions() as session:
        row = session.get(UserRow, user.id)
        assert row is not None and row.oidc_subject == "sub-alice"
    created = audit(web, "user_created")
    assert [(e["actor"], e["target"], e["details"]["via"]) for e in created] == [
        ("oidc", "alice.smith_corp.example", "oidc")]
    assert [e["target"] for e in audit(web, "team_created")] == ["support"]
    assert audit(web, "login")[-1]["details"]["via"] == "oidc"
    # the account has no password: password sign-in stays shut for it
    web.cookies.clear()
    r = web.post("/v1/auth/login", json={"username": "alice.smith_corp.example",
                                          "password": PASSWORD})
    assert r.status_code == 401


def test_a_group_change_takes_effect_at_the_next_sign_in(web: TestClient,
                                                         provider: str) -> None:
    set_claims(provider, "sub-bob", preferred_username="bob", groups=["helpdesk"])
    assert sso(web, "sub-bob").status_code == 200
    assert web.get("/v1/me").json()["roles"] == ["agent"]
    set_claims(provider, "sub-bob", preferred_username="bob", groups=["it-admins"])
    assert web.get("/v1/me").json()["roles"] == ["agent"]  # this session: as it was
    assert sso(web, "sub-bob").status_code == 200
    me = web.get("/v1/me").json()
    assert me["roles"] == ["admin"] and me["teams"] == ["it", "support"]
    assert [u.username for u in services_of(web).users.all()] == ["bob"]  # the same user
    changed = audit(web, "user_changed")
    assert changed[-1]["target"] == "bob" and changed[-1]["details"]["roles"] == ["admin"]
    set_claims(provider, "sub-bob", preferred_username="bob", groups=["helpdesk"])
    assert sso(web, "sub-bob").status_code == 200
    assert web.get("/v1/me").json()["roles"] == ["agent"]  # and back again


def test_a_disabled_user_is_refused_and_their_groups_are_not_applied(
        web: TestClient, provider: str) -> None:
    set_claims(provider, "sub-carol", preferred_username="carol", groups=["helpdesk"])
    assert sso(web, "sub-carol").status_code == 200
    services_of(web).users.update("carol", active=False)
    web.cookies.clear()
    set_claims(provider, "sub-carol", preferred_username="carol", groups=["it-admins"])
    refused = sso(web, "sub-carol")
    assert refused.status_code == 401
    assert "This account is disabled" in refused.text
    assert "vraagbaak_session=" not in refused.headers.get("set-cookie", "")
    assert web.get("/v1/me").status_code == 401
    assert services_of(web).users.get("carol").roles == ["agent"]
    failed = audit(web, "login_failed")[-1]
    assert failed["actor"] == "carol" and failed["details"]["reason"] == "account_disabled"
    services_of(web).users.update("carol", active=True)  # enabled again: in again
    assert sso(web, "sub-carol").status_code == 200
    assert web.get("/v1/me").json()["roles"] == ["admin"]


def test_a_callback_with_another_state_is_refused_before_the_code_is_used(
        web: TestClient, provider: str) -> None:
    set_claims(provider, "sub-dave", preferred_username="dave", groups=["helpdesk"])
    callback = to_provider(web, "sub-dave")
    query = parse_qs(urlparse(callback).query)
    forged = "/signin/oidc/callback?" + urlencode({"code": query["code"][0],
                                                   "state": "the-attackers-state"})
    refused = web.get(forged, follow_redirects=False)
    assert refused.status_code == 401 and "did not complete" in refused.text
    assert web.get("/v1/me").status_code == 401
    assert audit(web, "login_failed")[-1]["details"]["reason"] == "oidc_state_mismatch"
    assert "dave" not in [u.username for u in services_of(web).users.all()]
    # the app never asked the provider: the code is still unused
    token = httpx.post(f"{provider}/oauth2/token", auth=("vraagbaak", "x"), data={
        "grant_type": "authorization_code", "code": query["code"][0],
        "redirect_uri": "http://testserver/signin/oidc/callback"})
    assert token.status_code == 200
    # a callback without this browser's flow cookie (another browser, or a replay) neither
    callback = to_provider(web, "sub-dave")
    web.cookies.clear()
    assert web.get(callback, follow_redirects=False).status_code == 401
    assert audit(web, "login_failed")[-1]["details"]["reason"] == "oidc_flow_expired"
    # and the genuine round trip still works
    assert sso(web, "sub-dave").status_code == 200
    assert web.get("/v1/me").json()["username"] == "dave"


def test_a_denial_by_the_provider_is_refused_and_audited(web: TestClient) -> None:
    started = web.get("/signin/oidc", follow_redirects=False)
    state = parse_qs(urlparse(started.headers["location"]).query)["state"][0]
    refused = web.get("/signin/oidc/callback?" + urlencode(
        {"error": "access_denied", "state": state}), follow_redirects=False)
    assert refused.status_code == 401 and "did not complete" in refused.text
    assert audit(web, "login_failed")[-1]["details"]["reason"] == "oidc_denied"
    assert web.get("/v1/me").status_code == 401


def test_an_expired_id_token_from_the_provider_is_refused(tmp_path: Path,
                                                          expired_provider: str) -> None:
    settings = Settings(data_dir=tmp_path / "data", oidc=oidc(expired_provider))
    for web in start(settings):
        set_claims(expired_provider, "sub-erin", preferred_username="erin",
                   groups=["helpdesk"])
        refused = sso(web, "sub-erin")
        assert refused.status_code == 401
        failed = audit(web, "login_failed")[-1]
        assert failed["details"]["reason"] == "oidc_invalid_token"
        assert services_of(web).users.all() == []


def test_groups_that_give_no_role_and_unknown_users_when_creating_is_off_are_refused(
        tmp_path: Path, provider: str) -> None:
    settings = Settings(data_dir=tmp_path / "data", oidc=oidc(provider, create_users=False))
    for web in start(settings):
        set_claims(provider, "sub-frank", preferred_username="frank", groups=["not-mapped"])
        refused = sso(web, "sub-frank")
        assert refused.status_code == 403 and "gives you no access" in refused.text
        assert audit(web, "login_failed")[-1]["details"]["reason"] == "oidc_no_role"
        set_claims(provider, "sub-frank", preferred_username="frank", groups=["helpdesk"])
        assert sso(web, "sub-frank").status_code == 403  # no account, none created
        assert audit(web, "login_failed")[-1]["details"]["reason"] == "oidc_not_provisioned"
        assert services_of(web).users.all() == []


def test_a_password_account_of_the_same_name_is_linked_only_when_configured(
        tmp_path: Path, provider: str) -> None:
    set_claims(provider, "sub-gina", preferred_username="gina", groups=["helpdesk"])
    for link in (False, True):
        settings = Settings(data_dir=tmp_path / f"data-{link}",
                            oidc=oidc(provider, link_existing=link))
        for web in start(settings):
            make_user(services_of(web), "gina", ["reviewer"], password=PASSWORD)
            done = sso(web, "sub-gina")
            if not link:
                assert done.status_code == 409 and "already exists" in done.text
                assert services_of(web).users.get("gina").roles == ["reviewer"]
                continue
            assert done.status_code == 200
            assert web.get("/v1/me").json()["roles"] == ["agent"]
            web.cookies.clear()  # the password still works for the linked account
            assert web.post("/v1/auth/login", json={"username": "gina",
                                                     "password": PASSWORD}).status_code == 200


def test_the_sign_in_page_offers_the_provider_only_when_configured(
        tmp_path: Path, provider: str) -> None:
    for web in start(Settings(data_dir=tmp_path / "plain")):
        page = web.get("/signin").text
        assert "Sign in with" not in page and 'name="password"' in page
        assert web.get("/signin/oidc", follow_redirects=False).status_code == 404
        assert web.get("/signin/oidc/callback?code=x&state=y").status_code == 404
    for web in start(Settings(data_dir=tmp_path / "sso", oidc=oidc(provider))):
        page = web.get("/signin?next=/review").text
        assert re.search(r'href="/signin/oidc\?next=/review">Sign in with Example IdP<', page)
        assert 'name="password"' in page  # beside passwords, not instead
        dutch = web.get("/signin", headers={"Accept-Language": "nl"}).text
        assert "Aanmelden met Example IdP" in dutch


def test_a_provider_that_cannot_be_reached_is_a_clear_503(tmp_path: Path) -> None:
    down = f"http://127.0.0.1:{free_port()}"
    for web in start(Settings(data_dir=tmp_path / "data", oidc=oidc(down))):
        r = web.get("/signin/oidc", follow_redirects=False)
        assert r.status_code == 503 and "cannot be reached" in r.text
        assert 'name="password"' in r.text  # the password form is still there


def test_the_settings_read_the_group_mapping_as_json_and_refuse_half_a_configuration(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("VRAAGBAAK_OIDC__DISCOVERY_URL",
                       "https://idp.example/.well-known/openid-configuration")
    monkeypatch.setenv("VRAAGBAAK_OIDC__CLIENT_ID", "vraagbaak")
    monkeypatch.setenv("VRAAGBAAK_OIDC__CLIENT_SECRET", "from-the-environment")
    monkeypatch.setenv("VRAAGBAAK_OIDC__GROUP_ROLES", '{"helpdesk": ["agent", "reviewer"]}')
    monkeypatch.setenv("VRAAGBAAK_OIDC__GROUP_TEAMS", '{"helpdesk": ["support"]}')
    got = Settings(data_dir=tmp_path).oidc
    assert got.group_roles == {"helpdesk": ["agent", "reviewer"]}
    assert got.group_teams == {"helpdesk": ["support"]}
    assert "from-the-environment" not in repr(got)
    assert Settings(data_dir=tmp_path).audit_view()["oidc.client_secret"] == "**********"
    monkeypatch.setenv("VRAAGBAAK_OIDC__GROUP_ROLES", '{"helpdesk": ["superuser"]}')
    with pytest.raises(ValidationError):
        Settings(data_dir=tmp_path)
    monkeypatch.setenv("VRAAGBAAK_OIDC__GROUP_ROLES", "{}")
    monkeypatch.setenv("VRAAGBAAK_OIDC__GROUP_TEAMS", '{"helpdesk": ["Not A Team"]}')
    with pytest.raises(ValidationError):
        Settings(data_dir=tmp_path)
    with pytest.raises(ValidationError, match="client_id"):
        OIDCSettings(discovery_url="https://idp.example/.well-known/openid-configuration")
    with pytest.raises(ValidationError, match="https"):
        Settings(environment="production", data_dir=tmp_path,
                 oidc=OIDCSettings(discovery_url="http://idp.example/x", client_id="v"))


def test_concurrent_first_sign_ins_of_one_person_make_one_user(db_settings: Settings) -> None:
    services = build_services(db_settings, embedder=FakeEmbedder(), llm=FakeLLM(["x"]))
    try:
        barrier = threading.Barrier(4)

        def first_sign_in() -> OIDCSync:
            barrier.wait()
            return services.users.sync_oidc("sub-race", "race", display_name="", roles=["agent"],
                                            teams=["support"], create=True, link=False)

        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(lambda _: first_sign_in(), range(4)))
        assert {r.user.id for r in results} == {services.users.get("race").id}
        assert sum(r.created for r in results) == 1
        assert [t.name for t in services.users.teams()] == ["support"]
    finally:
        services.close()


def test_a_first_sign_in_committed_between_the_two_reads_is_found(
        db_settings: Settings) -> None:
    """The interleaving the race above hits now and then, made to happen every time: another
    first sign-in of the same person commits after this one found no user by its subject and
    before it reads by username."""
    services = build_services(db_settings, embedder=FakeEmbedder(), llm=FakeLLM(["x"]))
    others: list[OIDCSync] = []
    interleaved = threading.Event()

    def sign_in() -> OIDCSync:
        return services.users.sync_oidc("sub-late", "late", display_name="", roles=["agent"],
                                        teams=["support"], create=True, link=False)

    def after_the_subject_read(state: ORMExecuteState) -> Any:
        if (interleaved.is_set() or not state.is_select
                or "users.oidc_subject =" not in str(state.statement)):
            return None
        interleaved.set()
        result = state.invoke_statement().freeze()
        with ThreadPoolExecutor(1) as pool:
            others.append(pool.submit(sign_in).result())
        return result()

    event.listen(Session, "do_orm_execute", after_the_subject_read)
    try:
        mine = sign_in()
    finally:
        event.remove(Session, "do_orm_execute", after_the_subject_read)
    try:
        assert others[0].created and not mine.created
        assert mine.user.id == others[0].user.id == services.users.get("late").id
    finally:
        services.close()


def test_the_migrated_users_table_is_the_declared_one(db_settings: Settings) -> None:
    """Migration 0016 adds exactly the declared ``users.oidc_subject`` and its unique index."""
    def ours(name: str | None, kind: str, parents: dict[str, str | None]) -> bool:
        return kind == "schema" or (
            name if kind == "table" else parents.get("table_name")) == "users"

    def declared(obj: Any, name: str | None, kind: str, reflected: bool,
                 compare_to: Any) -> bool:
        table = obj if kind == "table" else getattr(obj, "table", None)
        return getattr(table, "name", None) == "users"

    services = build_services(db_settings, embedder=FakeEmbedder(), llm=FakeLLM(["x"]))
    try:
        with services.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={
                "include_name": ours, "include_object": declared})
            assert compare_metadata(context, Base.metadata) == []
            indexes = {i["name"]: i for i in inspect(connection).get_indexes("users")}
            assert indexes["ix_users_oidc_subject"]["unique"]
    finally:
        services.close()
