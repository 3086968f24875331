"""The governed prompt library: versions in the database, seeded from ``prompts/library``.

Three zones (``prompts.zones``). ``exploration``: new versions, usable only by evaluation runs.
``pilot``: agents may opt in per request (``"prompt": "answer@3"``; the answer records it).
``production``: exactly one version per prompt id, served by default. A version reaches
production only by ``promote``: an admin names a completed evaluation run of that exact version
on the prompt's gate set whose summary meets the gate's bounds; the promotion records the run.
``rollback`` restores the version that was in production before the last promotion. Versions
are never edited: a change is a new version.

Zone changes are conditional updates (``... WHERE zone = 'production' AND version = :current``),
so two admins promoting at once can't leave two production versions.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from app.audit.log import AuditLog
from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.principal import Principal
from app.core.tables import utcnow
from app.core.transitions import conditional_update
from app.prompt_library.checks import check_gate, check_template, template_of
from app.prompt_library.records import (
    GateEvidence,
    Promotion,
    PromptDetail,
    PromptEntry,
    PromptText,
    PromptVersion,
)
from app.prompt_library.tables import PromptPromotion
from app.prompt_library.tables import PromptVersion as PromptVersionRow
from eval.gates import gate_failures
from prompts.registry import BadPromptRef, PromptRegistry, PromptTemplate, parse_ref
from prompts.zones import MOVABLE_ZONES, SERVING_ZONES, Zone


class PromptStore:
    def __init__(self, sessions: sessionmaker[Session], audit: AuditLog,
                 files: PromptRegistry | None = None) -> None:
        self._sessions = sessions
        self._audit = audit
        self._files = files or PromptRegistry()

    def seed(self) -> int:
        """Insert the library files that are not in the database yet. On a database without
        the prompt id, its newest version released for production (``[release] production =
        true``: it passed its gate before it shipped) serves, else its first; every other
        file arrives in exploration, and a database that already serves a version keeps it
        until someone promotes another through the gate."""
        added = 0
        files = self._files.all()
        released = {t.id: t.version for t in files if t.release.get("production")}
        first = {t.id: t.version for t in reversed(files)}
        for t in files:
            with self._sessions() as session:
                if session.scalars(select(PromptVersionRow.id).where(
                        PromptVersionRow.prompt_id == t.id, PromptVersionRow.version == t.version)
                        ).first():
                    continue
                live = self._production(session, t.id)
                serves = released.get(t.id, first[t.id]) == t.version
                zone: Zone = "production" if live is None and serves else "exploration"
                session.add(PromptVersionRow(prompt_id=t.id, version=t.version, zone=zone,
                                             author="seed", change_note=t.description,
                                             template=t.fields(), gate=t.gate))
                if zone == "production":
                    session.add(PromptPromotion(prompt_id=t.id, action="seed",
                                                version=t.version, approved_by="seed"))
                try:
                    session.commit()
                except IntegrityError:  # another process seeded it first
                    session.rollback()
                    continue
            added += 1
        return added

    # -- reading -------------------------------------------------------------------------
    def get(self, ref: str, *, zones: Collection[str] = SERVING_ZONES) -> PromptTemplate:
        """``answer``: the production version; ``answer@3``: that version, if its zone is one
        of ``zones`` (agents: production and pilot; evaluation runs: any)."""
        prompt_id, version = _parse(ref)
        with self._sessions() as session:
            row = (self._production(session, prompt_id) if version is None
                   else self._row(session, prompt_id, version))
        if row is None or (version is not None and row.zone not in zones):
            raise NotFound(f"prompt '{ref}' not found" + (
                "" if row is None else f" in the {' or '.join(zones)} zone"),
                code="prompt_not_found")
        return template_of(row)

    def catalogue(self) -> list[PromptEntry]:
        """Every prompt id with its versions, oldest first, and the one in production."""
        with self._sessions() as session:
            rows = session.scalars(select(PromptVersionRow).order_by(
                PromptVersionRow.prompt_id, PromptVersionRow.version))
            entries: dict[str, PromptEntry] = {}
            for r in rows:
                entry = entries.setdefault(r.prompt_id, PromptEntry(
                    id=r.prompt_id, production=None, versions=[]))
                entry.versions.append(_version(r))
                if r.zone == "production":
                    entry.production = r.version
        return list(entries.values())

    def show(self, ref: str) -> PromptDetail:
        """A version (``answer``: the production one) with template, gate and history."""
        prompt_id, version = _parse(ref)
        with self._sessions() as session:
            row = (self._production(session, prompt_id) if version is None
                   else self._row(session, prompt_id, version))
            if row is None:
                raise NotFound(f"prompt '{ref}' not found", code="prompt_not_found")
            history = session.scalars(select(PromptPromotion)
                                      .where(PromptPromotion.prompt_id == prompt_id)
                                      .order_by(PromptPromotion.id)).all()
            return _detail(row, history)

    # -- changing ------------------------------------------------------------------------
    def new_version(self, author: Principal, prompt_id: str, *, system: str, user: str,
                    context_item: str | None = None, stop: list[str] | None = None,
                    description: str = "", change_note: str = "",
                    gate: dict[str, Any] | None = None) -> PromptVersion:
        """Add a version in the exploration zone; unset fields and the gate come from the
        newest version."""
        with self._sessions() as session:
            latest = session.scalars(select(PromptVersionRow)
                                     .where(PromptVersionRow.prompt_id == prompt_id)
                                     .order_by(PromptVersionRow.version.desc())).first()
            if latest is None:
                raise NotFound(f"prompt '{prompt_id}' not found", code="prompt_not_found")
            base = latest.template
            item = context_item or str(base["context_item"])
            check_template(system, user, item)
            fields = PromptText(
                description=description or base.get("description", ""), system=system,
                user=user, context_item=item,
                stop=list(stop if stop is not None else base.get("stop", [])))
            row = PromptVersionRow(prompt_id=prompt_id, version=latest.version + 1,
                                   zone="exploration", author=author.actor,
                                   change_note=change_note, template=fields.model_dump(),
                                   gate=latest.gate if gate is None else check_gate(gate))
            session.add(row)
            try:
                session.commit()
            except IntegrityError:
                session.rollback()
                raise Conflict("another version was added at the same time; try again",
                               code="version_taken") from None
            view = _version(row)
        self._audit.record(author.actor, "prompt_version_created", view.ref,
                           change_note=change_note)
        return view

    def set_zone(self, actor: Principal, ref: str, zone: Zone) -> PromptDetail:
        """Move a version between exploration and pilot (production only by ``promote``)."""
        if zone not in MOVABLE_ZONES:
            raise InvalidInput("a version moves to production only by promotion",
                               code="invalid_zone")
        prompt_id, version = _split(ref)
        with self._sessions() as session:
            done = conditional_update(session, PromptVersionRow,
                                      PromptVersionRow.prompt_id == prompt_id,
                                      PromptVersionRow.version == version,
                                      PromptVersionRow.zone != "production", zone=zone)
            session.commit()
        if not done:
            self.show(ref)  # 404 if it doesn't exist
            raise Conflict(f"{ref} is in production: roll back or promote another version",
                           code="in_production")
        self._audit.record(actor.actor, "prompt_zone_changed", ref, zone=zone)
        return self.show(ref)

    def promote(self, actor: Principal, ref: str, run: GateEvidence, *,
                gate_set_hash: str | None) -> PromptDetail:
        """Make ``ref`` the production version, on the strength of ``run``, which must have
        used the gate set as it is now (``gate_set_hash``: None if the set is gone)."""
        prompt_id, version = _split(ref)
        target = self.show(ref)
        gate = target.gate
        problems = []
        if run.status != "succeeded":
            problems.append(f"run {run.id} is {run.status}")
        if run.prompt != ref:
            problems.append(f"run {run.id} evaluated {run.prompt}, not {ref}")
        if not gate.get("set"):
            problems.append(f"{ref} has no gate set")
        elif run.set_name != gate["set"]:
            problems.append(f"run {run.id} used set '{run.set_name}', the gate is "
                            f"'{gate['set']}'")
        elif run.set_hash != gate_set_hash:
            problems.append(f"the gate set '{gate['set']}' changed since run {run.id}")
        if run.config.retrieval_only:
            problems.append("a retrieval-only run can't promote a prompt")
        problems += gate_failures(gate, run.summary)
        if problems:
            raise Conflict(f"{ref} can't be promoted: " + "; ".join(problems),
                           code="gate_not_met")
        if target.zone == "production":
            raise Conflict(f"{ref} is already in production", code="in_production")
        previous = self._switch(prompt_id, to=version, actor=actor, action="promote",
                                run_id=run.id)
        self._audit.record(actor.actor, "prompt_promoted", ref, run_id=run.id,
                           previous_version=previous, summary=run.summary)
        return self.show(ref)

    def rollback(self, actor: Principal, prompt_id: str) -> PromptDetail:
        """Restore the production version from before the last promotion."""
        with self._sessions() as session:
            last = session.scalars(select(PromptPromotion)
                                   .where(PromptPromotion.prompt_id == prompt_id,
                                          PromptPromotion.action == "promote")
                                   .order_by(PromptPromotion.id.desc())).first()
            current = self._production(session, prompt_id)
        if last is None or last.previous_version is None or current is None \
                or current.version != last.version:
            raise Conflict(f"'{prompt_id}' has no promotion to roll back",
                           code="nothing_to_roll_back")
        self._switch(prompt_id, to=last.previous_version, actor=actor, action="rollback")
        ref = f"{prompt_id}@{last.previous_version}"
        self._audit.record(actor.actor, "prompt_rolled_back", ref,
                           from_version=current.version)
        return self.show(ref)

    # -- helpers -------------------------------------------------------------------------
    def _switch(self, prompt_id: str, *, to: int, actor: Principal, action: str,
                run_id: str | None = None) -> int | None:
        """Demote the production version to pilot (only if it still is production) and put
        ``to`` there, in one transaction; returns the demoted version."""
        with self._sessions() as session:
            current = self._production(session, prompt_id)
            old = current.version if current else None
            if current is not None and not conditional_update(
                    session, PromptVersionRow, PromptVersionRow.id == current.id,
                    PromptVersionRow.zone == "production", zone="pilot"):
                raise Conflict("the production version changed meanwhile; try again",
                               code="concurrent_change")
            conditional_update(session, PromptVersionRow,
                               PromptVersionRow.prompt_id == prompt_id,
                               PromptVersionRow.version == to, zone="production")
            session.add(PromptPromotion(prompt_id=prompt_id, action=action, version=to,
                                        previous_version=old, run_id=run_id,
                                        approved_by=actor.actor, at=utcnow()))
            session.commit()
        return old

    @staticmethod
    def _production(session: Session, prompt_id: str) -> PromptVersionRow | None:
        return session.scalars(select(PromptVersionRow).where(
            PromptVersionRow.prompt_id == prompt_id,
            PromptVersionRow.zone == "production")).first()

    @staticmethod
    def _row(session: Session, prompt_id: str, version: int) -> PromptVersionRow | None:
        return session.scalars(select(PromptVersionRow).where(
            PromptVersionRow.prompt_id == prompt_id,
            PromptVersionRow.version == version)).first()


def _parse(ref: str) -> tuple[str, int | None]:
    """``prompts.registry.parse_ref``, its one error for a malformed ref as a 404 (what an
    unknown prompt gets too)."""
    try:
        return parse_ref(ref)
    except BadPromptRef as exc:
        raise NotFound(str(exc), code="prompt_not_found") from None


def _split(ref: str) -> tuple[str, int]:
    """A ref that names its version: zone changes and promotions act on one version."""
    prompt_id, version = _parse(ref)
    if version is None:
        raise InvalidInput("name a version: id@version", code="invalid_prompt_ref")
    return prompt_id, version


def _version(r: PromptVersionRow) -> PromptVersion:
    return PromptVersion(ref=f"{r.prompt_id}@{r.version}", id=r.prompt_id, version=r.version,
                         zone=r.zone, author=r.author, change_note=r.change_note,
                         created_at=r.created_at.isoformat())


def _detail(r: PromptVersionRow, history: Sequence[PromptPromotion]) -> PromptDetail:
    return PromptDetail(
        **_version(r).model_dump(), template=PromptText.model_validate(r.template),
        gate=dict(r.gate or {}),
        history=[Promotion(action=h.action, version=h.version,
                           previous_version=h.previous_version, run_id=h.run_id,
                           by=h.approved_by, at=h.at.isoformat()) for h in history])
