"""Single sign-on with an OpenID Connect provider, beside password sign-in.

    begin(redirect_uri, next)  -> (the provider's authorization URL, Flow for the cookie)
    complete(flow, code, state, ...) -> (SignIn, where to go next)

``complete`` refuses, before it asks the provider anything, a callback without this browser's
flow cookie or with another ``state`` (a forged or replayed link: login CSRF). It then trades
the code and the PKCE verifier for tokens at the token endpoint, checks the ID token
(``oidc_tokens.verify_id_token``), maps the claims onto a user and opens the usual sign-in
session (``IdentityService.login_oidc``), so nothing after the sign-in knows how it happened.

Mapping: the user is found by the provider's ``sub`` (``users.oidc_subject``), never by name,
since a provider may let names change. Their roles and teams are what ``group_roles`` and
``group_teams`` give their groups, written at every sign-in: a group change at the provider
takes effect at the next sign-in, and an admin's edit of such a user lasts until then.

Every refusal is audited as ``login_failed`` with ``via=oidc`` and a ``reason`` (the error
code); the discovery document and the JWKS are fetched at the first sign-in, not at start-up,
so a provider that is down stops single sign-on only, and are cached for ``CACHE_SECONDS``.
"""

from __future__ import annotations

import base64
import re
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.common.urls import add_params_to_uri, quote
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from app.audit.log import AuditLog
from app.core.errors import Unauthorized, Unavailable, VraagbaakError
from app.core.settings import OIDCSettings
from app.identity.oidc_tokens import Flow, TokenRejected, verify_id_token
from app.identity.records import SignIn
from app.identity.service import IdentityService
from app.identity.tables import ROLES, Role

CACHE_SECONDS = 3600
_NOT_IN_NAME = re.compile(r"[^a-z0-9._-]")


@dataclass(frozen=True)
class Identity:
    """A person as the provider vouched for them, with what their groups give them here."""

    subject: str
    username: str
    display_name: str
    groups: tuple[str, ...]
    roles: tuple[Role, ...]
    teams: tuple[str, ...]


def username_from(claims: dict[str, Any], claim: str) -> str:
    """A valid username from ``claim`` (else email, else sub): lower case, any character a
    username may not hold turned into ``_``, at most 64 characters."""
    for name in (claim, "email", "sub"):
        value = claims.get(name)
        if isinstance(value, str) and value.strip():
            cleaned = _NOT_IN_NAME.sub("_", value.strip().lower()).lstrip("._-")[:64]
            if cleaned:
                return cleaned
    return ""


def groups_of(claims: dict[str, Any], claim: str) -> tuple[str, ...]:
    value = claims.get(claim)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return ()
    return tuple(sorted({g for g in value if isinstance(g, str)}))


def grants_of(groups: tuple[str, ...], settings: OIDCSettings,
              ) -> tuple[tuple[Role, ...], tuple[str, ...]]:
    """(roles, teams) the groups give, each sorted; groups the mapping doesn't name give none."""
    roles = {r for g in groups for r in settings.group_roles.get(g, [])}
    teams = {t for g in groups for t in settings.group_teams.get(g, [])}
    return tuple(r for r in ROLES if r in roles), tuple(sorted(teams))


class SingleSignOn:
    def __init__(self, settings: OIDCSettings, identity: IdentityService, audit: AuditLog, *,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.settings = settings
        self._identity = identity
        self._audit = audit
        self._http = httpx.Client(timeout=settings.timeout_s, transport=transport)
        self._lock = threading.Lock()
        self._metadata: dict[str, Any] | None = None
        self._jwks: dict[str, Any] | None = None
        self._fetched = 0.0

    @property
    def name(self) -> str:
        return self.settings.provider_name

    def close(self) -> None:
        self._http.close()

    # -- the flow ----------------------------------------------------------------------------
    def begin(self, redirect_uri: str, next_path: str) -> tuple[str, Flow]:
        """Where to send the browser, and the flow it must bring back in its cookie."""
        meta = self.metadata()
        flow = Flow(state=secrets.token_urlsafe(24), nonce=secrets.token_urlsafe(24),
                    verifier=secrets.token_urlsafe(48), next=next_path, started=int(time.time()))
        url = add_params_to_uri(meta["authorization_endpoint"], [
            ("response_type", "code"), ("client_id", self.settings.client_id),
            ("redirect_uri", redirect_uri), ("scope", " ".join(self.settings.scopes)),
            ("state", flow.state), ("nonce", flow.nonce),
            ("code_challenge", create_s256_code_challenge(flow.verifier)),
            ("code_challenge_method", "S256")])
        return url, flow

    def complete(self, flow: Flow | None, *, state: str, code: str, error: str,
                 redirect_uri: str, client: str = "") -> tuple[SignIn, str]:
        """Finish a sign-in the provider sent back: (the session, the page to go to)."""
        try:
            identity = self._verify(flow, state=state, code=code, error=error,
                                    redirect_uri=redirect_uri)
        except VraagbaakError as exc:
            self._audit.record("oidc", "login_failed", via="oidc", reason=exc.code,
                               client=client)
            raise
        assert flow is not None
        signed_in = self._identity.login_oidc(
            identity, create=self.settings.create_users, link=self.settings.link_existing,
            client=client)
        return signed_in, flow.next

    def _verify(self, flow: Flow | None, *, state: str, code: str, error: str,
                redirect_uri: str) -> Identity:
        if flow is None:
            raise Unauthorized("the sign-in took too long or was started in another browser; "
                               "start again", code="oidc_flow_expired")
        if not secrets.compare_digest(flow.state.encode(), state.encode()):
            raise Unauthorized("this sign-in link does not belong to your sign-in; start again",
                               code="oidc_state_mismatch")
        if error or not code:
            raise Unauthorized("the identity provider did not sign you in",
                               code="oidc_denied")
        tokens = self._exchange(code, flow.verifier, redirect_uri)
        meta = self.metadata()
        try:
            claims = verify_id_token(
                str(tokens.get("id_token") or ""), self._keys, issuer=meta["issuer"],
                client_id=self.settings.client_id, nonce=flow.nonce,
                access_token=tokens.get("access_token"),
                algorithms=meta.get("id_token_signing_alg_values_supported"),
                leeway=self.settings.leeway_s)
        except TokenRejected as exc:
            raise Unauthorized(str(exc), code="oidc_invalid_token") from exc
        groups = groups_of(claims, self.settings.groups_claim)
        roles, teams = grants_of(groups, self.settings)
        name = claims.get("name")
        return Identity(subject=claims["sub"],
                        username=username_from(claims, self.settings.username_claim),
                        display_name=name[:200] if isinstance(name, str) else "",
                        groups=groups, roles=roles, teams=teams)

    # -- talking to the provider -------------------------------------------------------------
    def _exchange(self, code: str, verifier: str, redirect_uri: str) -> dict[str, Any]:
        data = {"grant_type": "authorization_code", "code": code,
                "redirect_uri": redirect_uri, "code_verifier": verifier}
        secret = self.settings.client_secret.get_secret_value()
        headers = {"Accept": "application/json"}
        if secret:  # client_secret_basic, both parts form-encoded first (RFC 6749 2.3.1)
            basic = f"{quote(self.settings.client_id)}:{quote(secret)}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(basic).decode()
        else:  # a public client names itself in the body
            data["client_id"] = self.settings.client_id
        try:
            r = self._http.post(self.metadata()["token_endpoint"], data=data, headers=headers)
        except httpx.HTTPError as exc:
            raise self._down(exc) from exc
        body = _json(r)
        if r.status_code != 200 or body is None:
            raise Unauthorized("the identity provider refused the sign-in code",
                               code="oidc_token_refused")
        return body

    def metadata(self) -> dict[str, Any]:
        """The discovery document, fetched at first use and again after ``CACHE_SECONDS``."""
        with self._lock:
            if self._metadata is None or time.monotonic() - self._fetched > CACHE_SECONDS:
                meta = self._get(self.settings.discovery_url)
                needed = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")
                if not all(isinstance(meta.get(k), str) for k in needed):
                    raise Unavailable("the identity provider's configuration is incomplete",
                                      code="oidc_unavailable")
                self._metadata, self._jwks, self._fetched = meta, None, time.monotonic()
            return self._metadata

    def _keys(self, force: bool) -> dict[str, Any]:
        meta = self.metadata()
        with self._lock:
            if self._jwks is None or force:
                self._jwks = self._get(meta["jwks_uri"])
            return self._jwks

    def _get(self, url: str) -> dict[str, Any]:
        try:
            r = self._http.get(url, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise self._down(exc) from exc
        body = _json(r)
        if r.status_code != 200 or body is None:
            raise Unavailable("the identity provider answered with an error",
                              code="oidc_unavailable")
        return body

    @staticmethod
    def _down(exc: Exception) -> Unavailable:
        return Unavailable(f"the identity provider cannot be reached ({type(exc).__name__})",
                           code="oidc_unavailable")


def _json(r: httpx.Response) -> dict[str, Any] | None:
    try:
        body = r.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None
