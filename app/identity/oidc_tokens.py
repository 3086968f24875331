"""What the browser carries through an OIDC sign-in, and the check of the ID token it ends with.

``Flow`` is the state, nonce and PKCE verifier of one sign-in. It lives in an HttpOnly cookie
of the browser that started it, not in a server table, so any replica can finish a sign-in
another one started; it is good for ``FLOW_SECONDS``.

``verify_id_token`` checks, in code, everything that makes an ID token this sign-in's:

- the signature, against the provider's JWKS, with an asymmetric algorithm the provider
  announces (never ``none``, never an HMAC keyed with something public); a key id the cached
  set lacks makes one refetch (the provider rotated its keys);
- ``iss`` is the provider's issuer, ``aud`` holds our client id (and ``azp``, if present, is
  us), ``exp`` is in the future and ``iat`` not, within ``leeway`` seconds of clock skew;
- ``nonce`` is the one this flow sent, so a token captured from another sign-in is refused;
- ``at_hash``, if present, matches the access token it came with.

The claim rules are authlib's (``CodeIDToken``); the JWS checks are joserfc's, which authlib
builds on.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

FLOW_SECONDS = 600
ASYMMETRIC = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512",
              "EdDSA")


class TokenRejected(Exception):
    """The ID token is not valid for this sign-in; the message names the failed check."""


@dataclass(frozen=True)
class Flow:
    state: str
    nonce: str
    verifier: str
    next: str
    started: int  # Unix time

    def cookie(self) -> str:
        return base64.urlsafe_b64encode(json.dumps(asdict(self)).encode()).decode()

    @classmethod
    def from_cookie(cls, value: str | None) -> Flow | None:
        """The flow, or None for a missing, mangled or stale cookie."""
        if not value or len(value) > 4096:
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(value.encode()))
            flow = cls(**{k: data[k] for k in ("state", "nonce", "verifier", "next")},
                       started=int(data["started"]))
        except (ValueError, KeyError, TypeError):
            return None
        if not all(isinstance(v, str) for v in (flow.state, flow.nonce, flow.verifier,
                                                flow.next)):
            return None
        if not 0 <= time.time() - flow.started <= FLOW_SECONDS:
            return None
        return flow


def verify_id_token(raw: str, jwks: Callable[[bool], dict[str, Any]], *, issuer: str,
                    client_id: str, nonce: str, access_token: str | None = None,
                    algorithms: list[str] | None = None, leeway: int = 60,
                    now: int | None = None) -> dict[str, Any]:
    """The claims of ``raw`` once every check above passed; else ``TokenRejected``.

    ``jwks(force)`` returns the provider's key set, fetched again when ``force`` is true.
    """
    allowed = [a for a in (algorithms or ["RS256"]) if a in ASYMMETRIC]
    if not allowed:
        raise TokenRejected("the provider announces no asymmetric signing algorithm")
    registry = JWSRegistry(algorithms=allowed, strict_check_header=False)
    try:
        try:
            token = jwt.decode(raw, _key_set(jwks(False)), registry=registry)
        except InvalidKeyIdError:
            token = jwt.decode(raw, _key_set(jwks(True)), registry=registry)
    except (JoseError, ValueError) as exc:
        raise TokenRejected(f"the ID token's signature does not verify ({_name(exc)})") from exc
    options = {"iss": {"essential": True, "value": issuer},
               "aud": {"essential": True, "value": client_id},
               "sub": {"essential": True}, "exp": {"essential": True},
               "nonce": {"essential": True}}
    params: dict[str, Any] = {"nonce": nonce, "client_id": client_id}
    if access_token:
        params["access_token"] = access_token
    claims = CodeIDToken(token.claims, token.header, options, params)
    try:
        claims.validate(now=now, leeway=leeway)
    except JoseError as exc:
        raise TokenRejected(f"the ID token is not valid here ({_name(exc)})") from exc
    sub = claims.get("sub")
    if not isinstance(sub, str) or not 0 < len(sub) <= 255:  # users.oidc_subject's size
        raise TokenRejected("the ID token's sub is not a string of 1-255 characters")
    return dict(claims)


def _key_set(jwks: Any) -> KeySet:
    """The JWKS document as joserfc's key set (its parser checks the shape)."""
    return KeySet.import_key_set(jwks)


def _name(exc: Exception) -> str:
    """``invalid_claim: aud`` and the like: what failed, without echoing token contents."""
    error = getattr(exc, "error", type(exc).__name__)
    claim = getattr(exc, "claim", None)
    return f"{error}: {claim}" if claim else str(error)
