"""The ID-token check and the flow cookie, against tokens the test crafts.

The test is its own provider here: it makes RSA keys, signs tokens with them and hands the
validator their public JWKS (in process, as ``SingleSignOn`` hands it the provider's). That is
how a wrong audience, a wrong issuer or nonce, a foreign signature and an unsigned token are
made; the real provider process (test_oidc.py) never issues those.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, OctKey, RSAKey

from app.identity.oidc_tokens import FLOW_SECONDS, Flow, TokenRejected, verify_id_token

ISSUER = "https://idp.example/realms/staff"
CLIENT = "vraagbaak"
NONCE = "n-0123456789"
KEY = RSAKey.generate_key(2048, parameters={"kid": "k1"})
OTHER = RSAKey.generate_key(2048, parameters={"kid": "k1"})  # same kid, other key


def jwks(*keys: RSAKey) -> dict[str, Any]:
    return dict(KeySet(list(keys)).as_dict(private=False))


def claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {"iss": ISSUER, "aud": CLIENT, "sub": "u-1", "iat": now, "exp": now + 300,
            "nonce": NONCE, "groups": ["helpdesk"]}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def token(key: RSAKey | OctKey = KEY, alg: str = "RS256", **changes: Any) -> str:
    return jwt.encode({"alg": alg, "kid": "k1"}, claims(**changes), key,
                      algorithms=[alg])


def verify(raw: str, keys: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
    found = keys or jwks(KEY)
    args: dict[str, Any] = {"issuer": ISSUER, "client_id": CLIENT, "nonce": NONCE} | kw
    return verify_id_token(raw, lambda force: found, **args)


def test_a_token_of_this_sign_in_passes_with_its_claims() -> None:
    got = verify(token())
    assert got["sub"] == "u-1" and got["groups"] == ["helpdesk"]
    assert verify(token(aud=[CLIENT, "other-app"], azp=CLIENT))["sub"] == "u-1"


@pytest.mark.parametrize(("change", "why"), [
    ({"aud": "other-app"}, "invalid_claim: aud"),
    ({"aud": ["other-app", "third-app"]}, "invalid_claim: aud"),
    ({"aud": [CLIENT, "other-app"], "azp": "other-app"}, "invalid_claim: azp"),
    ({"iss": "https://evil.example"}, "invalid_claim: iss"),
    ({"nonce": "a-replayed-nonce"}, "invalid_claim: nonce"),
    ({"nonce": None}, "missing_claim: nonce"),
    ({"sub": None}, "missing_claim: sub"),
    ({"exp": -61}, "expired_token: exp"),  # times: seconds from now
    ({"iat": 120, "exp": 600}, "invalid_claim: iat"),
])
def test_a_token_for_someone_else_or_out_of_date_is_refused(change: dict[str, Any],
                                                           why: str) -> None:
    now = int(time.time())
    change = {k: now + v if k in ("exp", "iat") else v for k, v in change.items()}
    with pytest.raises(TokenRejected, match=why):
        verify(token(**change))


def test_expiry_is_checked_against_the_clock_with_the_leeway_only() -> None:
    expired_a_bit = token(exp=int(time.time()) - 30)
    assert verify(expired_a_bit, leeway=60)["sub"] == "u-1"  # clock skew
    with pytest.raises(TokenRejected, match="expired_token"):
        verify(expired_a_bit, leeway=0)
    later = int(time.time()) + 3600
    with pytest.raises(TokenRejected, match="expired_token"):
        verify(token(), now=later)


def test_a_signature_by_another_key_is_refused() -> None:
    with pytest.raises(TokenRejected, match="signature"):
        verify(token(key=OTHER))


def test_an_unsigned_or_hmac_token_is_refused_even_if_the_key_set_would_verify_it() -> None:
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none"}).encode()).rstrip(b"=")
    body = base64.urlsafe_b64encode(json.dumps(claims()).encode()).rstrip(b"=")
    with pytest.raises(TokenRejected):
        verify(f"{header.decode()}.{body.decode()}.")
    secret = OctKey.import_key("a-shared-secret-that-is-long-enough-here",
                               parameters={"kid": "k1"})
    hmac_token = token(key=secret, alg="HS256")
    oct_set = dict(KeySet([secret]).as_dict(private=True))
    with pytest.raises(TokenRejected):
        verify(hmac_token, oct_set, algorithms=["HS256", "RS256"])
    with pytest.raises(TokenRejected, match="asymmetric"):
        verify(hmac_token, oct_set, algorithms=["HS256"])


def test_an_unknown_key_id_fetches_the_key_set_once_more() -> None:
    rotated = RSAKey.generate_key(2048, parameters={"kid": "k2"})
    fetches: list[bool] = []

    def keys(force: bool) -> dict[str, Any]:
        fetches.append(force)
        return jwks(KEY, rotated) if force else jwks(KEY)

    raw = jwt.encode({"alg": "RS256", "kid": "k2"}, claims(), rotated)
    got = verify_id_token(raw, keys, issuer=ISSUER, client_id=CLIENT, nonce=NONCE)
    assert got["sub"] == "u-1" and fetches == [False, True]
    fetches.clear()
    assert verify_id_token(token(), keys, issuer=ISSUER, client_id=CLIENT, nonce=NONCE)
    assert fetches == [False]  # a known key needs no refetch


def test_the_flow_cookie_round_trips_and_a_stale_or_mangled_one_is_none() -> None:
    flow = Flow(state="s", nonce="n", verifier="v" * 64, next="/ask", started=int(time.time()))
    assert Flow.from_cookie(flow.cookie()) == flow
    stale = Flow(state="s", nonce="n", verifier="v", next="/",
                 started=int(time.time()) - FLOW_SECONDS - 1)
    assert Flow.from_cookie(stale.cookie()) is None
    assert Flow.from_cookie("not base64 at all!") is None
    assert Flow.from_cookie(base64.urlsafe_b64encode(b'{"state": 1}').decode()) is None
    assert Flow.from_cookie(None) is None
