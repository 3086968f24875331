"""Users, teams and passwords.

Passwords are hashed with argon2 through pwdlib (its recommended parameters); a sign-in against
an unknown user still spends one hash, so response time doesn't tell which usernames exist.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from pwdlib import PasswordHash
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from app.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.core.names import USERNAME
from app.identity.records import OIDCSync, Team, User
from app.identity.tables import ROLES, Membership, Role
from app.identity.tables import Team as TeamRow
from app.identity.tables import User as UserRow

MIN_PASSWORD = 12
HASHER = PasswordHash.recommended()


@functools.cache
def _dummy_hash() -> str:
    return HASHER.hash("not-a-real-password-only-for-timing")


def check_name(kind: str, name: str) -> str:
    if not USERNAME.match(name):
        raise InvalidInput(f"{kind} names are 1-64 characters: lower-case letters, digits, "
                           ". - and _", code=f"invalid_{kind}_name")
    return name


def check_roles(roles: Iterable[str]) -> list[Role]:
    """The roles, sorted and typed; ``invalid_role`` if one is unknown or none is given."""
    wanted = set(roles)
    known = sorted(r for r in ROLES if r in wanted)
    if not wanted or len(known) != len(wanted):
        raise InvalidInput(f"roles must be one or more of {', '.join(ROLES)}",
                           code="invalid_role")
    return known


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"passwords need at least {MIN_PASSWORD} characters",
                           code="weak_password")
    return password


class UserService:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def session(self) -> Session:
        return self._sessions()

    # -- users -------------------------------------------------------------------------------
    def create(self, username: str, *, roles: Iterable[str], teams: Iterable[str] = (),
               password: str | None = None, display_name: str = "") -> User:
        check_name("user", username)
        role_list = check_roles(roles)
        hashed = HASHER.hash(check_password(password)) if password is not None else None
        with self._sessions() as session:
            if session.scalars(select(UserRow).where(UserRow.username == username)).first():
                raise Conflict(f"user '{username}' already exists", code="user_exists")
            user = UserRow(username=username, roles=role_list, password_hash=hashed,
                           display_name=display_name)
            session.add(user)
            session.flush()
            self._set_teams(session, user, teams)
            session.commit()
            return self._view(session, user)

    def update(self, username: str, *, roles: Iterable[str] | None = None,
               teams: Iterable[str] | None = None, active: bool | None = None,
               password: str | None = None, display_name: str | None = None) -> User:
        with self._sessions() as session:
            user = self._user(session, username)
            if roles is not None:
                user.roles = check_roles(roles)
            if teams is not None:
                self._set_teams(session, user, teams)
            if active is not None:
                user.active = active
            if password is not None:
                user.password_hash = HASHER.hash(check_password(password))
            if display_name is not None:
                user.display_name = display_name
            session.commit()
            return self._view(session, user)

    def get(self, username: str) -> User:
        with self._sessions() as session:
            return self._view(session, self._user(session, username))

    def all(self) -> list[User]:
        with self._sessions() as session:
            users = session.scalars(select(UserRow).order_by(UserRow.username)).all()
            return [self._view(session, u) for u in users]

    def authenticate(self, username: str, password: str) -> User | None:
        """The user, if the password is right and the account active; else None."""
        with self._sessions() as session:
            user = session.scalars(select(UserRow).where(UserRow.username == username)).first()
            if user is None or user.password_hash is None:
                HASHER.verify(password, _dummy_hash())  # same cost as a real check
                return None
            ok, new_hash = HASHER.verify_and_update(password, user.password_hash)
            if not ok or not user.active:
                return None
            if new_hash is not None:  # parameters got stronger since it was hashed
                user.password_hash = new_hash
                session.commit()
            return self._view(session, user)

    def sync_oidc(self, subject: str, username: str, *, display_name: str,
                  roles: Iterable[str], teams: Iterable[str], create: bool, link: bool,
                  ) -> OIDCSync:
        """The user the provider's ``subject`` belongs to, with ``roles`` and ``teams`` written
        (missing teams created). A first sign-in creates the user (no password) if ``create``,
        or takes over an unlinked account of that username if ``link``. A disabled user is
        returned untouched: the caller refuses them. One transaction; when a concurrent
        sign-in created the same user or team first, the second try finds it."""
        role_list, team_list = check_roles(roles), sorted(set(teams))
        try:
            return self._sync_oidc(subject, username, display_name, role_list, team_list,
                                   create=create, link=link)
        except IntegrityError:
            return self._sync_oidc(subject, username, display_name, role_list, team_list,
                                   create=create, link=link)

    def _sync_oidc(self, subject: str, username: str, display_name: str, role_list: list[Role],
                   team_list: list[str], *, create: bool, link: bool) -> OIDCSync:
        with self._sessions() as session:
            # the row lock (PostgreSQL; SQLite has one writer anyway) makes two sign-ins of one
            # person, in two tabs, write their teams one after the other
            user = session.scalars(select(UserRow).where(UserRow.oidc_subject == subject)
                                   .with_for_update()).first()
            created = False
            if user is None:
                check_name("user", username)
                user = session.scalars(select(UserRow).where(UserRow.username == username)
                                       .with_for_update()).first()
                # a concurrent first sign-in of this person may have committed between the two
                # reads (SQLite reads outside a transaction; PostgreSQL locks no missing row)
                if (user is not None and user.oidc_subject != subject
                        and (user.oidc_subject is not None or not link)):
                    raise Conflict(f"user '{username}' already exists and is not linked to "
                                   "this identity", code="oidc_username_taken")
                if user is None and not create:
                    raise Forbidden("you have no account here yet; ask an administrator",
                                    code="oidc_not_provisioned")
                if user is None:
                    user = UserRow(username=username, roles=role_list, password_hash=None,
                                   display_name=display_name)
                    session.add(user)
                    created = True
                user.oidc_subject = subject
                session.flush()
            if not user.active:
                return OIDCSync(user=self._view(session, user), created=False, changed=False,
                                new_teams=[])
            before = (list(user.roles), self.team_names_of(session, user.id))
            have = set(session.scalars(select(TeamRow.name).where(TeamRow.name.in_(team_list))))
            new_teams = [t for t in team_list if t not in have]
            session.add_all(TeamRow(name=check_name("team", t)) for t in new_teams)
            session.flush()
            user.roles = role_list
            if display_name:
                user.display_name = display_name
            self._set_teams(session, user, team_list)
            session.flush()
            changed = not created and before != (role_list, self.team_names_of(session, user.id))
            session.commit()
            return OIDCSync(user=self._view(session, user), created=created, changed=changed,
                            new_teams=new_teams)

    # -- teams -------------------------------------------------------------------------------
    def create_team(self, name: str) -> Team:
        check_name("team", name)
        with self._sessions() as session:
            if session.scalars(select(TeamRow).where(TeamRow.name == name)).first():
                raise Conflict(f"team '{name}' already exists", code="team_exists")
            session.add(TeamRow(name=name))
            session.commit()
        return Team(name=name, members=[])

    def teams(self) -> list[Team]:
        with self._sessions() as session:
            rows = session.execute(
                select(TeamRow.name, UserRow.username).select_from(TeamRow)
                .outerjoin(Membership, Membership.team_id == TeamRow.id)
                .outerjoin(UserRow, UserRow.id == Membership.user_id)
                .order_by(TeamRow.name, UserRow.username)).all()
        out: dict[str, list[str]] = {}
        for team, user in rows:
            out.setdefault(team, [])
            if user:
                out[team].append(user)
        return [Team(name=t, members=m) for t, m in out.items()]

    def team_names_of(self, session: Session, user_id: int) -> frozenset[str]:
        return frozenset(session.scalars(
            select(TeamRow.name).join(Membership, Membership.team_id == TeamRow.id)
            .where(Membership.user_id == user_id)))

    # -- helpers -----------------------------------------------------------------------------
    def _user(self, session: Session, username: str) -> UserRow:
        user = session.scalars(select(UserRow).where(UserRow.username == username)).first()
        if user is None:
            raise NotFound(f"user '{username}' not found", code="user_not_found")
        return user

    def _set_teams(self, session: Session, user: UserRow, teams: Iterable[str]) -> None:
        names = sorted(set(teams))
        found = dict(session.execute(select(TeamRow.name, TeamRow.id)
                                     .where(TeamRow.name.in_(names))).all())
        missing = [n for n in names if n not in found]
        if missing:
            raise NotFound(f"team '{missing[0]}' not found", code="team_not_found")
        session.execute(delete(Membership).where(Membership.user_id == user.id))
        session.add_all(Membership(user_id=user.id, team_id=found[n]) for n in names)

    def _view(self, session: Session, user: UserRow) -> User:
        return User(id=user.id, username=user.username, display_name=user.display_name,
                    roles=list(user.roles), teams=sorted(self.team_names_of(session, user.id)),
                    active=user.active, password_set=user.password_hash is not None,
                    created_at=user.created_at.isoformat())
