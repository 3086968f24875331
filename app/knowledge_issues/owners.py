"""Knowledge owners: who answers for a collection, or a folder of it, and where an issue goes.

An owner is a user or a team. Routing is by the cited document's path: the owners of the
folder with the longest prefix of it, else the collection's (folder ""); no owner at all and
the issue is "unowned", which admins see. ``collections_owned_by`` is the question other
features ask ("which collections are this person's to look after?"): directly or through a
team, and every collection for an admin. Memberships are read from the database on every
call, like ``AccessService.readable``, so a removed membership is obeyed at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from app.audit.log import AuditLog
from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.principal import Principal
from app.identity.tables import Membership, Team, User
from app.knowledge.tables import Collection
from app.knowledge_issues.records import FOLDER_MAX, Owner, OwnerKind
from app.knowledge_issues.tables import KnowledgeOwner


@dataclass(frozen=True)
class Ownership:
    """One owner row as routing reads it."""

    prefix: str
    kind: OwnerKind
    owner_id: int
    name: str

    @property
    def label(self) -> str:
        return self.name if self.kind == "user" else f"team:{self.name}"


@dataclass(frozen=True)
class Viewer:
    """A person as ownership sees them: their user id and the ids of their teams now."""

    user_id: int | None
    team_ids: frozenset[int]
    admin: bool

    def owns(self, routed: Iterable[Ownership]) -> bool:
        return any((o.kind == "user" and o.owner_id == self.user_id)
                   or (o.kind == "team" and o.owner_id in self.team_ids) for o in routed)


def normalise_folder(folder: str) -> str:
    """A folder as stored: forward slashes, no slash at either end, no ``.`` parts. (A
    ``..`` part is harmless: no stored document path holds one, so it matches nothing.)"""
    parts = [p for p in folder.replace("\\", "/").split("/") if p not in ("", ".")]
    cleaned = "/".join(parts)
    if len(cleaned) > FOLDER_MAX:
        raise InvalidInput(f"a folder is at most {FOLDER_MAX} characters", code="invalid_folder")
    return cleaned


def route(owners: Iterable[Ownership], document: str) -> list[Ownership]:
    """The owners of the longest folder that holds ``document`` (the collection's owners
    hold everything); [] when nobody owns it."""
    holding = [o for o in owners if not o.prefix or document == o.prefix
               or document.startswith(o.prefix + "/")]
    if not holding:
        return []
    longest = max(len(o.prefix) for o in holding)
    return [o for o in holding if len(o.prefix) == longest]


class OwnerService:
    def __init__(self, sessions: sessionmaker[Session], audit: AuditLog) -> None:
        self._sessions = sessions
        self._audit = audit

    # -- reading -------------------------------------------------------------------------
    def viewer(self, principal: Principal) -> Viewer:
        if principal.user_id is None:
            return Viewer(None, frozenset(), principal.is_admin)
        with self._sessions() as session:
            teams = frozenset(session.scalars(select(Membership.team_id).where(
                Membership.user_id == principal.user_id)))
        return Viewer(principal.user_id, teams, principal.is_admin)

    def collections_owned_by(self, principal: Principal) -> set[str]:
        """Names of the collections ``principal`` owns (a folder of, at least) directly or
        through a team; every collection for an admin."""
        with self._sessions() as session:
            if principal.is_admin:
                return set(session.scalars(select(Collection.name)))
            if principal.user_id is None:
                return set()
            teams = select(Membership.team_id).where(Membership.user_id == principal.user_id)
            mine = or_(and_(KnowledgeOwner.kind == "user",
                            KnowledgeOwner.owner_id == principal.user_id),
                       and_(KnowledgeOwner.kind == "team", KnowledgeOwner.owner_id.in_(teams)))
            return set(session.scalars(
                select(Collection.name).join(KnowledgeOwner,
                                             KnowledgeOwner.collection_id == Collection.id)
                .where(mine).distinct()))

    def ownerships(self, session: Session, collections: Iterable[str]
                   ) -> dict[str, list[Ownership]]:
        """Every owner of each of ``collections``, by collection name (named users and
        teams only: an owner whose user or team is gone owns nothing)."""
        names = sorted(set(collections))
        out: dict[str, list[Ownership]] = {name: [] for name in names}
        if not names:
            return out
        for kind, table in (("user", User), ("team", Team)):
            label = User.username if table is User else Team.name
            rows = session.execute(
                select(Collection.name, KnowledgeOwner.prefix, KnowledgeOwner.owner_id, label)
                .join(KnowledgeOwner, KnowledgeOwner.collection_id == Collection.id)
                .join(table, table.id == KnowledgeOwner.owner_id)
                .where(KnowledgeOwner.kind == kind, Collection.name.in_(names)))
            for coll, prefix, owner_id, name in rows:
                out[coll].append(Ownership(prefix, kind, owner_id, name))  # type: ignore[arg-type]
        return out

    def of(self, collection: str) -> list[Owner]:
        with self._sessions() as session:
            coll = self._collection(session, collection)
            rows = session.scalars(select(KnowledgeOwner).where(
                KnowledgeOwner.collection_id == coll.id)).all()
            names = self._names(session, rows)
            owners = [self._view(coll.name, r, names) for r in rows if (r.kind, r.owner_id)
                      in names]
        return sorted(owners, key=lambda o: (o.folder, o.kind, o.name))

    # -- changing ------------------------------------------------------------------------
    def add(self, collection: str, actor: Principal, *, user: str | None = None,
            team: str | None = None, folder: str = "") -> Owner:
        """Make a user or a team (exactly one) an owner of the collection or its folder."""
        kind, name = self._one_of(user, team)
        prefix = normalise_folder(folder)
        with self._sessions() as session:
            coll = self._collection(session, collection)
            owner_id = self._owner_id(session, kind, name)
            row = KnowledgeOwner(collection_id=coll.id, prefix=prefix, kind=kind,
                                 owner_id=owner_id, created_by=actor.actor)
            session.add(row)
            try:
                session.commit()
            except IntegrityError:
                session.rollback()
                raise Conflict(f"{name} already owns {collection}/{prefix}",
                               code="owner_exists") from None
            view = self._view(coll.name, row, {(kind, owner_id): name})
        self._audit.record(actor.actor, "owner_added", collection, owner_id=view.owner_id,
                           kind=kind, name=name, folder=prefix)
        return view

    def remove(self, collection: str, actor: Principal, owner_id: int) -> None:
        """Remove one ownership by its id (404 if the collection has no such owner)."""
        with self._sessions() as session:
            coll = self._collection(session, collection)
            row = session.get(KnowledgeOwner, owner_id)
            if row is None or row.collection_id != coll.id:
                raise NotFound("no such owner of this collection", code="owner_not_found")
            kind, prefix = row.kind, row.prefix
            name = self._names(session, [row]).get((row.kind, row.owner_id), "")
            session.delete(row)
            session.commit()
        self._audit.record(actor.actor, "owner_removed", collection, owner_id=owner_id,
                           kind=kind, name=name, folder=prefix)

    def remove_named(self, collection: str, actor: Principal, *, user: str | None = None,
                     team: str | None = None, folder: str = "") -> None:
        """Remove the ownership ``add`` with the same arguments made (the command line)."""
        kind, name = self._one_of(user, team)
        prefix = normalise_folder(folder)
        with self._sessions() as session:
            coll = self._collection(session, collection)
            owner_id = self._owner_id(session, kind, name)
            found = session.scalar(select(KnowledgeOwner.id).where(
                KnowledgeOwner.collection_id == coll.id, KnowledgeOwner.prefix == prefix,
                KnowledgeOwner.kind == kind, KnowledgeOwner.owner_id == owner_id))
        if found is None:
            raise NotFound(f"{name} does not own {collection}/{prefix}",
                           code="owner_not_found")
        self.remove(collection, actor, found)

    # -- helpers -------------------------------------------------------------------------
    @staticmethod
    def _one_of(user: str | None, team: str | None) -> tuple[OwnerKind, str]:
        if bool(user) == bool(team):
            raise InvalidInput("name a user or a team (one of the two)", code="owner_required")
        return ("user", user) if user else ("team", team or "")

    @staticmethod
    def _collection(session: Session, name: str) -> Collection:
        coll = session.scalars(select(Collection).where(Collection.name == name)).first()
        if coll is None:
            raise NotFound(f"collection '{name}' not found", code="collection_not_found")
        return coll

    @staticmethod
    def _owner_id(session: Session, kind: OwnerKind, name: str) -> int:
        if kind == "user":
            found = session.scalar(select(User.id).where(User.username == name))
            if found is None:
                raise NotFound(f"user '{name}' not found", code="user_not_found")
            return found
        found = session.scalar(select(Team.id).where(Team.name == name))
        if found is None:
            raise NotFound(f"team '{name}' not found", code="team_not_found")
        return found

    @staticmethod
    def _names(session: Session, rows: Iterable[KnowledgeOwner]
               ) -> dict[tuple[str, int], str]:
        rows = list(rows)
        users = [r.owner_id for r in rows if r.kind == "user"]
        teams = [r.owner_id for r in rows if r.kind == "team"]
        names: dict[tuple[str, int], str] = {}
        if users:
            names |= {("user", i): n for i, n in session.execute(
                select(User.id, User.username).where(User.id.in_(users)))}
        if teams:
            names |= {("team", i): n for i, n in session.execute(
                select(Team.id, Team.name).where(Team.id.in_(teams)))}
        return names

    @staticmethod
    def _view(collection: str, row: KnowledgeOwner, names: dict[tuple[str, int], str]
              ) -> Owner:
        return Owner(owner_id=row.id, collection=collection, folder=row.prefix, kind=row.kind,
                     name=names[(row.kind, row.owner_id)], created_at=row.created_at)
