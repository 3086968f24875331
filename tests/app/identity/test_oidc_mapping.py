"""The parts of single sign-on that need no provider: usernames and groups from claims, the
group mapping, and how the client proves itself at the token endpoint (seen through an
``httpx.MockTransport`` that records the request)."""

from __future__ import annotations

import base64
import time
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from pydantic import SecretStr

from app.core.errors import Forbidden, Unauthorized
from app.core.settings import OIDCSettings
from app.identity.oidc import Identity, SingleSignOn, grants_of, groups_of, username_from
from app.identity.oidc_tokens import Flow
from app.wiring import Services

META = {"issuer": "https://idp.example", "authorization_endpoint": "https://idp.example/auth",
        "token_endpoint": "https://idp.example/token", "jwks_uri": "https://idp.example/jwks"}


@pytest.mark.parametrize(("claims", "name"), [
    ({"preferred_username": "Alice", "email": "a@x.example", "sub": "1"}, "alice"),
    ({"preferred_username": "Alice Smith@Corp.example"}, "alice_smith_corp.example"),
    ({"preferred_username": "  ", "email": "Bob@x.example"}, "bob_x.example"),
    ({"preferred_username": 42, "sub": "f3b1-77"}, "f3b1-77"),
    ({"preferred_username": "_.-@@", "sub": "@@"}, ""),
    ({"preferred_username": "x" * 80}, "x" * 64),
])
def test_a_username_is_made_valid_from_the_claims(claims: dict[str, Any], name: str) -> None:
    assert username_from(claims, "preferred_username") == name


def test_groups_are_a_list_of_strings_or_one_string_and_the_mapping_unions_them() -> None:
    assert groups_of({"groups": ["b", "a", 3, "a"]}, "groups") == ("a", "b")
    assert groups_of({"roles": "helpdesk"}, "roles") == ("helpdesk",)
    assert groups_of({"groups": {"a": 1}}, "groups") == ()
    assert groups_of({}, "groups") == ()
    settings = OIDCSettings(group_roles={"helpdesk": ["agent"], "it": ["admin", "agent"]},
                            group_teams={"helpdesk": ["support"], "it": ["it"]})
    assert grants_of(("helpdesk", "it", "other"), settings) == (("agent", "admin"),
                                                                ("it", "support"))
    assert grants_of(("other",), settings) == ((), ())


def sso_with(secret: str, seen: list[httpx.Request]) -> SingleSignOn:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("openid-configuration"):
            return httpx.Response(200, json=META)
        seen.append(request)
        return httpx.Response(400, json={"error": "invalid_grant"})

    settings = OIDCSettings(discovery_url="https://idp.example/.well-known/openid-configuration",
                            client_id="vraag baak", client_secret=SecretStr(secret))
    return SingleSignOn(settings, identity=None, audit=None,  # type: ignore[arg-type]
                        transport=httpx.MockTransport(answer))


def test_a_confidential_client_sends_basic_auth_form_encoded_and_a_public_one_its_id() -> None:
    flow = Flow(state="s", nonce="n", verifier="v" * 43, next="/", started=int(time.time()))
    for secret in ("se:cr/et+", ""):
        seen: list[httpx.Request] = []
        sso = sso_with(secret, seen)
        with pytest.raises(Unauthorized) as refused:
            sso._verify(flow, state="s", code="c", error="", redirect_uri="https://v/cb")
        assert refused.value.code == "oidc_token_refused"
        body = parse_qs(seen[0].content.decode())
        assert body["code_verifier"] == ["v" * 43] and body["grant_type"] == [
            "authorization_code"]
        if secret:
            basic = base64.b64decode(seen[0].headers["authorization"].removeprefix("Basic "))
            assert basic == b"vraag%20baak:se%3Acr/et%2B" and "client_id" not in body
        else:
            assert "authorization" not in seen[0].headers and body["client_id"] == ["vraag baak"]


def test_an_identity_without_a_usable_username_or_role_opens_no_session(
        services: Services) -> None:
    nameless = Identity(subject="s-1", username="", display_name="", groups=("helpdesk",),
                        roles=("agent",), teams=())
    with pytest.raises(Unauthorized) as refused:
        services.identity.login_oidc(nameless, create=True, link=False)
    assert refused.value.code == "oidc_no_username"
    roleless = Identity(subject="s-2", username="olga", display_name="", groups=("other",),
                        roles=(), teams=())
    with pytest.raises(Forbidden):
        services.identity.login_oidc(roleless, create=True, link=False)
    failed = [e for e in services.audit.entries() if e["action"] == "login_failed"]
    assert [(e["actor"], e["details"]["reason"]) for e in failed] == [
        ("oidc:s-1", "oidc_no_username"), ("olga", "oidc_no_role")]
    assert services.users.all() == []
    named = Identity(subject="s-2", username="olga", display_name="Olga", groups=("helpdesk",),
                     roles=("agent",), teams=())
    assert services.identity.login_oidc(named, create=True, link=False).username == "olga"
