"""Turn credentials into a ``Principal``: API tokens, sign-in sessions, password sign-in.

This is the one place that knows how a caller proves who they are. The HTTP layer hands it the
raw bearer token or session cookie and gets a ``Principal`` back; routes only ever see the
``Principal``. Single sign-on (``app.identity.oidc``) ends in ``login_oidc`` here, which maps the
provider's verified claims onto a ``User`` row and opens the same session a password does.

Every sign-in, failed sign-in, sign-out, token creation and revocation goes to the audit trail
(by token id and prefix, never the secret).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.audit.log import AuditLog
from app.core.errors import Forbidden, Unauthorized, VraagbaakError
from app.core.principal import Principal, Via
from app.identity.rate_limits import RateLimits
from app.identity.records import NewToken, SignIn, Token, User
from app.identity.tokens import Credential, TokenService
from app.identity.users import UserService

if TYPE_CHECKING:
    from app.identity.oidc import Identity


class IdentityService:
    def __init__(self, users: UserService, tokens: TokenService, audit: AuditLog,
                 limits: RateLimits) -> None:
        self.users = users
        self.tokens = tokens
        self._audit = audit
        self._limits = limits

    def from_token(self, token: str) -> Principal:
        return self._principal(self.tokens.resolve(token))

    def from_session(self, secret: str, *, csrf: str | None, changes_state: bool) -> Principal:
        return self._principal(self.tokens.resolve_session(secret, csrf=csrf,
                                                           changes_state=changes_state))

    def as_user(self, username: str) -> Principal:
        """A user's principal without credentials: for the operator's ``ask --user``."""
        user = self.users.get(username)
        return self._build(user, None, "cli")

    def login(self, username: str, password: str, *, client: str = "") -> SignIn:
        """Check the password and open a session (its cookie secret, CSRF token, expiry)."""
        self._limits.hit("login", username.lower())
        user = self.users.authenticate(username, password)
        if user is None:
            self._audit.record(username[:64] or "?", "login_failed", client=client)
            raise Unauthorized("wrong username or password", code="login_failed")
        self._limits.reset("login", username.lower())
        principal = self._build(user, None, "session")
        secret, csrf, expires = self.tokens.open_session(user.id)
        self._audit.record(principal.actor, "login", client=client)
        return SignIn(username=principal.username, roles=sorted(principal.roles),
                      teams=sorted(principal.teams), csrf_token=csrf,
                      expires_at=expires.isoformat(), session_secret=secret)

    def login_oidc(self, identity: Identity, *, create: bool, link: bool,
                   client: str = "") -> SignIn:
        """Open a session for a person the OIDC provider vouched for (``app.identity.oidc``):
        their user found by subject, created or linked at the first sign-in, roles and teams
        set from their groups. Refused, and audited: no role from any group, a username taken
        by another account, no account while creating is off, a disabled account."""
        actor = identity.username or f"oidc:{identity.subject[:40]}"
        try:
            if not identity.roles:
                raise Forbidden("none of your groups gives you a role here; ask an "
                                "administrator", code="oidc_no_role")
            if not identity.username:
                raise Unauthorized("the identity provider gave no usable username",
                                   code="oidc_no_username")
            sync = self.users.sync_oidc(identity.subject, identity.username,
                                        display_name=identity.display_name,
                                        roles=identity.roles, teams=identity.teams,
                                        create=create, link=link)
            user = sync.user
            principal = self._build(user, None, "session")
        except VraagbaakError as exc:
            self._audit.record(actor, "login_failed", via="oidc", reason=exc.code,
                               groups=list(identity.groups), client=client)
            raise
        for team in sync.new_teams:
            self._audit.record("oidc", "team_created", team, via="oidc")
        if sync.created or sync.changed:
            self._audit.record("oidc", "user_created" if sync.created else "user_changed",
                               user.username, roles=user.roles, teams=user.teams,
                               groups=list(identity.groups), via="oidc")
        secret, csrf, expires = self.tokens.open_session(user.id)
        self._audit.record(principal.actor, "login", via="oidc", client=client)
        return SignIn(username=principal.username, roles=sorted(principal.roles),
                      teams=sorted(principal.teams), csrf_token=csrf,
                      expires_at=expires.isoformat(), session_secret=secret)

    def logout(self, principal: Principal) -> None:
        if principal.via == "session" and principal.credential_id:
            self.tokens.close_session(principal.credential_id)
            self._audit.record(principal.actor, "logout")

    def create_token(self, actor: Principal, username: str, *, name: str = "",
                     expires_days: int | None = 90) -> NewToken:
        """A new API token for ``username``: the secret is in the result, this once."""
        user = self.users.get(username)
        if not user.active:
            raise Forbidden(f"user '{username}' is disabled", code="account_disabled")
        token, view = self.tokens.create(user.id, name=name, expires_days=expires_days)
        self._audit.record(actor.actor, "token_created", username, token_id=view.id,
                           prefix=view.prefix, name=name, expires_at=view.expires_at)
        return NewToken(**view.model_dump(), token=token)

    def revoke_token(self, actor: Principal, token_id: str, *, own_only: bool) -> Token:
        """Revoke a token; with ``own_only``, only one of the actor's own (else 404)."""
        view = self.tokens.revoke(token_id, user_id=actor.user_id if own_only else None)
        self._audit.record(actor.actor, "token_revoked", token_id, prefix=view.prefix)
        return view

    def _principal(self, cred: Credential) -> Principal:
        with self.users.session() as session:
            user = self.tokens.load_user(session, cred.user_id)
            teams = self.users.team_names_of(session, user.id)
            return Principal(user_id=user.id, username=user.username,
                             roles=frozenset(user.roles), teams=teams, via=cred.via,
                             credential_id=cred.credential_id)

    def _build(self, user: User, credential_id: str | None, via: Via) -> Principal:
        if not user.active:
            raise Unauthorized("this account is disabled", code="account_disabled")
        return Principal(user_id=user.id, username=user.username, roles=frozenset(user.roles),
                         teams=frozenset(user.teams), via=via, credential_id=credential_id)
