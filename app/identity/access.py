"""Which collections a caller may read, and the grants that decide it.

``readable`` is computed from the database on every request, so a revoked grant, a removed
team membership or a disabled account is obeyed by the very next request. Admins read every
collection; everyone else reads the collections marked public plus those granted to one of
their teams.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session, sessionmaker

from app.core.errors import NotFound
from app.core.principal import Principal
from app.identity.tables import Grant, Membership, Team
from app.knowledge.tables import Collection


class AccessService:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def readable(self, principal: Principal) -> frozenset[str]:
        with self._sessions() as session:
            if principal.is_admin:
                return frozenset(session.scalars(select(Collection.name)))
            if principal.user_id is None:
                return frozenset()
            my_teams = select(Membership.team_id).where(Membership.user_id == principal.user_id)
            granted = select(Grant.collection_id).where(Grant.team_id.in_(my_teams))
            return frozenset(session.scalars(select(Collection.name).where(
                or_(Collection.public.is_(True), Collection.id.in_(granted)))))

    def grants(self, collection: str) -> dict[str, Any]:
        with self._sessions() as session:
            coll = self._collection(session, collection)
            return self._view(session, coll)

    def all_grants(self) -> dict[str, dict[str, Any]]:
        with self._sessions() as session:
            colls = session.scalars(select(Collection).order_by(Collection.name)).all()
            return {c.name: self._view(session, c) for c in colls}

    def set_grants(self, collection: str, *, everyone: bool | None = None,
                   teams: Iterable[str] | None = None, add: Iterable[str] = (),
                   remove: Iterable[str] = ()) -> tuple[dict[str, Any], dict[str, Any]]:
        """Change who may read a collection; returns (before, after) for the audit trail.

        ``teams`` replaces the team list; ``add`` and ``remove`` edit it.
        """
        with self._sessions() as session:
            coll = self._collection(session, collection)
            before = self._view(session, coll)
            wanted = set(before["teams"] if teams is None else teams)
            wanted = (wanted | set(add)) - set(remove)
            ids = dict(session.execute(select(Team.name, Team.id)
                                       .where(Team.name.in_(sorted(wanted)))).all())
            missing = sorted(wanted - ids.keys())
            if missing:
                raise NotFound(f"team '{missing[0]}' not found", code="team_not_found")
            if everyone is not None:
                coll.public = everyone
            session.execute(delete(Grant).where(Grant.collection_id == coll.id))
            session.add_all(Grant(collection_id=coll.id, team_id=ids[t]) for t in sorted(wanted))
            session.commit()
            return before, self._view(session, coll)

    def _collection(self, session: Session, name: str) -> Collection:
        coll = session.scalars(select(Collection).where(Collection.name == name)).first()
        if coll is None:
            raise NotFound(f"collection '{name}' not found", code="collection_not_found")
        return coll

    def _view(self, session: Session, coll: Collection) -> dict[str, Any]:
        teams = session.scalars(select(Team.name).join(Grant, Grant.team_id == Team.id)
                                .where(Grant.collection_id == coll.id).order_by(Team.name))
        return {"collection": coll.name, "everyone": coll.public, "teams": list(teams)}
