"""The governed prompt library: versions in the database, seeded from ``prompts/library``.

Three zones. ``exploration``: new versions, usable only by evaluation runs. ``pilot``: agents may
opt in per request (``"prompt": "answer@3"``; the answer records it). ``production``: exactly
one version per prompt id, served by default. A version reaches production only by
``promote``: an admin names a completed evaluation run of that exact version on the prompt's
gate set whose summary meets the gate's bounds; the promotion records the run. ``rollback``
restores the version that was in production before the last promotion. Versions are never
edited: a change is a new version.

Zone changes are conditional updates (``... WHERE zone = 'production' AND version = :current``),
so two admins promoting at once can't leave two production versions.
"""

from __future__ import annotations

import string
from collections.abc import Collection
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from app.audit.log import AuditLog
from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.principal import Principal
from app.core.tables import utcnow
from app.prompt_library.tables import ZONES, PromptPromotion, PromptVersion
from eval.gates import gate_failures
from prompts.registry import PromptRegistry, PromptTemplate

SERVING = ("production", "pilot")
ANY_ZONE = ZONES
TEMPLATE_FIELDS = {"context", "question"}


def template_of(row: PromptVersion) -> PromptTemplate:
    t = row.template
    return PromptTemplate(id=row.prompt_id, version=row.version,
                          description=str(t.get("description", "")), system=str(t["system"]),
                          user=str(t["user"]), context_item=str(t["context_item"]),
                          stop=tuple(t.get("stop", ())), gate=dict(row.gate or {}))


def check_template(system: str, user: str, context_item: str) -> None:
    """A new version must render: its fields are known and its braces balanced."""
    try:
        names = {f for _, f, _, _ in string.Formatter().parse(user) if f}
        item = {f for _, f, _, _ in string.Formatter().parse(context_item) if f}
    except ValueError as exc:
        raise InvalidInput(f"the template does not parse: {exc}", code="invalid_template") from None
    if any(not f.isidentifier() for f in names | item):
        # {question.__class__} or {context[0]}: a template names values, never reaches into them
        raise InvalidInput("template fields are plain names like {question}",
                           code="invalid_template")
    if not names >= TEMPLATE_FIELDS:
        raise InvalidInput("the user text needs {context} and {question}",
                           code="invalid_template")
    if not item <= {"n", "title", "heading", "text"} or "text" not in item:
        raise InvalidInput("context_item may use {n}, {title}, {heading} and must use {text}",
                           code="invalid_template")
    if not system.strip():
        raise InvalidInput("the system text is empty", code="invalid_template")
    try:  # a trial render: positional fields, bad format specs and the like fail here
        user.format(**dict.fromkeys(names, ""))
        context_item.format(n=1, title="", heading="", text="")
    except (ValueError, IndexError, KeyError, AttributeError) as exc:
        raise InvalidInput(f"the template does not render ({type(exc).__name__}: {exc})",
                           code="invalid_template") from None


def check_gate(gate: dict[str, Any]) -> dict[str, Any]:
    """``{"set": name, "min": {metric: number}, "max": {metric: number}}`` or refuse."""
    if not isinstance(gate, dict) or set(gate) - {"set", "min", "max"}:
        raise InvalidInput("a gate has 'set', 'min' and 'max' only", code="invalid_gate")
    if not isinstance(gate.get("set", ""), str):
        raise InvalidInput("the gate's 'set' is a set name", code="invalid_gate")
    for side in ("min", "max"):
        bounds = gate.get(side, {})
        if not isinstance(bounds, dict) or not all(
                isinstance(k, str) and isinstance(v, int | float) and not isinstance(v, bool)
                for k, v in bounds.items()):
            raise InvalidInput(f"the gate's '{side}' maps metric names to numbers",
                               code="invalid_gate")
    return gate


class PromptStore:
    def __init__(self, sessions: sessionmaker[Session], audit: AuditLog,
                 files: PromptRegistry | None = None) -> None:
        self._sessions = sessions
        self._audit = audit
        self._files = files or PromptRegistry()

    def seed(self) -> int:
        """Insert the library files that are not in the database yet. The first version of a
        prompt id serves in production; later files arrive in exploration."""
        added = 0
        for t in self._files.all():
            with self._sessions() as session:
                if session.scalars(select(PromptVersion.id).where(
                        PromptVersion.prompt_id == t.id, PromptVersion.version == t.version)
                        ).first():
                    continue
                live = self._production(session, t.id)
                zone = "exploration" if live is not None else "production"
                session.add(PromptVersion(prompt_id=t.id, version=t.version, zone=zone,
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
    def get(self, ref: str, *, zones: Collection[str] = SERVING) -> PromptTemplate:
        """``answer``: the production version; ``answer@3``: that version, if its zone is one
        of ``zones`` (agents: production and pilot; evaluation runs: any)."""
        prompt_id, _, version = ref.partition("@")
        with self._sessions() as session:
            if not version:
                row = self._production(session, prompt_id)
            elif version.isdigit():
                row = self._row(session, prompt_id, int(version))
            else:
                row = None
        if row is None or (version and row.zone not in zones):
            raise NotFound(f"prompt '{ref}' not found" + (
                "" if row is None else f" in the {' or '.join(zones)} zone"),
                code="prompt_not_found")
        return template_of(row)

    def catalogue(self) -> list[dict[str, Any]]:
        with self._sessions() as session:
            rows = session.scalars(select(PromptVersion)
                                   .order_by(PromptVersion.prompt_id, PromptVersion.version))
            out: dict[str, dict[str, Any]] = {}
            for r in rows:
                entry = out.setdefault(r.prompt_id, {"id": r.prompt_id, "production": None,
                                                     "versions": []})
                entry["versions"].append(self._summary(r))
                if r.zone == "production":
                    entry["production"] = r.version
        return list(out.values())

    def show(self, ref: str) -> dict[str, Any]:
        prompt_id, at, version = ref.partition("@")
        if at and not version.isdigit():
            raise NotFound(f"prompt '{ref}' not found", code="prompt_not_found")
        with self._sessions() as session:
            row = (self._row(session, prompt_id, int(version)) if version.isdigit()
                   else self._production(session, prompt_id))
            if row is None:
                raise NotFound(f"prompt '{ref}' not found", code="prompt_not_found")
            history = session.scalars(select(PromptPromotion)
                                      .where(PromptPromotion.prompt_id == prompt_id)
                                      .order_by(PromptPromotion.id)).all()
            return self._summary(row) | {
                "template": row.template, "gate": row.gate,
                "history": [{"action": h.action, "version": h.version,
                             "previous_version": h.previous_version, "run_id": h.run_id,
                             "by": h.approved_by, "at": h.at.isoformat()}
                            for h in history]}

    # -- changing ------------------------------------------------------------------------
    def new_version(self, author: Principal, prompt_id: str, *, system: str, user: str,
                    context_item: str | None = None, stop: list[str] | None = None,
                    description: str = "", change_note: str = "",
                    gate: dict[str, Any] | None = None) -> dict[str, Any]:
        """Add a version in the exploration zone; unset fields and the gate come from the
        newest version."""
        with self._sessions() as session:
            latest = session.scalars(select(PromptVersion)
                                     .where(PromptVersion.prompt_id == prompt_id)
                                     .order_by(PromptVersion.version.desc())).first()
            if latest is None:
                raise NotFound(f"prompt '{prompt_id}' not found", code="prompt_not_found")
            base = latest.template
            item = context_item or str(base["context_item"])
            check_template(system, user, item)
            fields: dict[str, Any] = {
                "description": description or base.get("description", ""), "system": system,
                "user": user, "context_item": item,
                "stop": list(stop if stop is not None else base.get("stop", []))}
            row = PromptVersion(prompt_id=prompt_id, version=latest.version + 1,
                                zone="exploration", author=author.actor,
                                change_note=change_note, template=fields,
                                gate=latest.gate if gate is None else check_gate(gate))
            session.add(row)
            try:
                session.commit()
            except IntegrityError:
                session.rollback()
                raise Conflict("another version was added at the same time; try again",
                               code="version_taken") from None
            view = self._summary(row)
        self._audit.record(author.actor, "prompt_version_created", f"{prompt_id}@{row.version}",
                           change_note=change_note)
        return view

    def set_zone(self, actor: Principal, ref: str, zone: str) -> dict[str, Any]:
        """Move a version between exploration and pilot (production only by ``promote``)."""
        if zone not in ("exploration", "pilot"):
            raise InvalidInput("a version moves to production only by promotion",
                               code="invalid_zone")
        prompt_id, version = self._split(ref)
        with self._sessions() as session:
            done = session.execute(
                update(PromptVersion).where(PromptVersion.prompt_id == prompt_id,
                                            PromptVersion.version == version,
                                            PromptVersion.zone != "production")
                .values(zone=zone)).rowcount  # type: ignore[attr-defined]
            session.commit()
        if not done:
            self.show(ref)  # 404 if it doesn't exist
            raise Conflict(f"{ref} is in production: roll back or promote another version",
                           code="in_production")
        self._audit.record(actor.actor, "prompt_zone_changed", ref, zone=zone)
        return self.show(ref)

    def promote(self, actor: Principal, ref: str, run: dict[str, Any], *,
                gate_set_hash: str | None) -> dict[str, Any]:
        """Make ``ref`` the production version, on the strength of ``run``, which must have
        used the gate set as it is now (``gate_set_hash``: None if the set is gone)."""
        prompt_id, version = self._split(ref)
        target = self.show(ref)
        gate = target["gate"]
        problems = []
        if run["status"] != "succeeded":
            problems.append(f"run {run['id']} is {run['status']}")
        if run["prompt"] != ref:
            problems.append(f"run {run['id']} evaluated {run['prompt']}, not {ref}")
        if not gate.get("set"):
            problems.append(f"{ref} has no gate set")
        elif run["set_name"] != gate["set"]:
            problems.append(f"run {run['id']} used set '{run['set_name']}', the gate is "
                            f"'{gate['set']}'")
        elif run["set_hash"] != gate_set_hash:
            problems.append(f"the gate set '{gate['set']}' changed since run {run['id']}")
        if run["config"].get("retrieval_only"):
            problems.append("a retrieval-only run can't promote a prompt")
        problems += gate_failures(gate, run["summary"])
        if problems:
            raise Conflict(f"{ref} can't be promoted: " + "; ".join(problems),
                           code="gate_not_met")
        if target["zone"] == "production":
            raise Conflict(f"{ref} is already in production", code="in_production")
        previous = self._switch(prompt_id, to=version, actor=actor, action="promote",
                                run_id=run["id"])
        self._audit.record(actor.actor, "prompt_promoted", ref, run_id=run["id"],
                           previous_version=previous, summary=run["summary"])
        return self.show(ref)

    def rollback(self, actor: Principal, prompt_id: str) -> dict[str, Any]:
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
        with self._sessions() as session:
            current = self._production(session, prompt_id)
            old = current.version if current else None
            if current is not None:
                demoted = session.execute(
                    update(PromptVersion).where(PromptVersion.id == current.id,
                                                PromptVersion.zone == "production")
                    .values(zone="pilot")).rowcount  # type: ignore[attr-defined]
                if not demoted:
                    raise Conflict("the production version changed meanwhile; try again",
                                   code="concurrent_change")
            session.execute(update(PromptVersion).where(PromptVersion.prompt_id == prompt_id,
                                                        PromptVersion.version == to)
                            .values(zone="production"))
            session.add(PromptPromotion(prompt_id=prompt_id, action=action, version=to,
                                        previous_version=old, run_id=run_id,
                                        approved_by=actor.actor, at=utcnow()))
            session.commit()
        return old

    @staticmethod
    def _split(ref: str) -> tuple[str, int]:
        prompt_id, _, version = ref.partition("@")
        if not version.isdigit():
            raise InvalidInput("name a version: id@version", code="invalid_prompt_ref")
        return prompt_id, int(version)

    @staticmethod
    def _production(session: Session, prompt_id: str) -> PromptVersion | None:
        return session.scalars(select(PromptVersion).where(
            PromptVersion.prompt_id == prompt_id, PromptVersion.zone == "production")).first()

    @staticmethod
    def _row(session: Session, prompt_id: str, version: int) -> PromptVersion | None:
        return session.scalars(select(PromptVersion).where(
            PromptVersion.prompt_id == prompt_id, PromptVersion.version == version)).first()

    @staticmethod
    def _summary(r: PromptVersion) -> dict[str, Any]:
        return {"ref": f"{r.prompt_id}@{r.version}", "id": r.prompt_id, "version": r.version,
                "zone": r.zone, "author": r.author, "change_note": r.change_note,
                "created_at": r.created_at.isoformat()}


