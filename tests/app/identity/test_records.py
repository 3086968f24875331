"""The identity records keep what must not cross the wire off it: a user's database id and a
session's cookie secret are readable by the services but absent from every serialisation,
repr and schema; the role vocabulary is one ``Literal``."""

from __future__ import annotations

import json
from typing import get_args

import pytest
from pydantic import ValidationError

from app.core.errors import InvalidInput
from app.core.principal import Principal
from app.identity.records import Me, NewToken, SignIn, User
from app.identity.tables import ROLES, Role
from app.identity.users import check_roles

COOKIE = "the-cookie-secret-0123456789"


def test_a_user_record_keeps_its_id_off_the_wire() -> None:
    user = User(id=7, username="alice", display_name="", roles=["agent"], teams=[],
                active=True, password_set=False, created_at="2025-01-01T00:00:00+00:00")
    assert user.id == 7
    assert "id" not in user.model_dump() and '"id"' not in user.model_dump_json()
    assert "id" not in User.model_json_schema(mode="serialization")["properties"]


def test_a_sign_in_never_serialises_its_cookie_secret() -> None:
    signed_in = SignIn(username="alice", roles=["agent"], teams=[], csrf_token="csrf",
                       expires_at="2025-01-01T12:00:00+00:00", session_secret=COOKIE)
    assert signed_in.session_secret.get_secret_value() == COOKIE
    for shown in (signed_in.model_dump_json(), json.dumps(signed_in.model_dump()),
                  repr(signed_in), str(signed_in)):
        assert COOKIE not in shown
    assert signed_in.model_dump()["csrf_token"] == "csrf"


def test_a_new_token_is_a_token_plus_its_secret() -> None:
    new = NewToken(id="t1", name="ci", prefix="vbk_abcd1234", created_at="x", expires_at=None,
                   last_used_at=None, revoked=False, expired=False, token="vbk_abcd1234_s")
    assert new.model_dump()["token"] == "vbk_abcd1234_s" and new.prefix in new.token


def test_me_is_the_principal_sorted() -> None:
    who = Principal(user_id=1, username="bob", roles=frozenset({"reviewer", "agent"}),
                    teams=frozenset({"b", "a"}), via="session")
    assert Me.of(who, {"kb-b", "kb-a"}).model_dump() == {
        "username": "bob", "roles": ["agent", "reviewer"], "teams": ["a", "b"],
        "collections": ["kb-a", "kb-b"], "via": "session"}


def test_roles_are_one_vocabulary() -> None:
    assert ROLES == get_args(Role) == ("agent", "reviewer", "evaluator", "manager", "admin")
    assert check_roles(["reviewer", "agent", "agent"]) == ["agent", "reviewer"]
    for bad in ([], ["boss"], ["agent", "boss"]):
        with pytest.raises(InvalidInput) as refused:
            check_roles(bad)
        assert refused.value.code == "invalid_role"
    with pytest.raises(ValidationError):
        Me(username="x", roles=["boss"], teams=[], collections=[], via="token")
