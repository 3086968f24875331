"""`vraagbaak review`: a reviewer works the queue from the command line, as themselves."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from app.cli.main import cli
from app.core.settings import RetrievalSettings, Settings
from app.review.drafts import Customer
from app.wiring import Services, build_services
from models.fakes import FakeEmbedder, FakeLLM
from tests.access import make_user


@pytest.fixture
def db(tmp_path: Path, kb: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Services]:
    data = tmp_path / "data"
    for key, value in {"VRAAGBAAK_DATA_DIR": str(data), "VRAAGBAAK_WARM_UP": "false",
                       "COLUMNS": "200"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("VRAAGBAAK_DATABASE_URL", raising=False)
    built = build_services(Settings(data_dir=data, warm_up=False,
                                    retrieval=RetrievalSettings(min_dense_score=0.2)),
                           embedder=FakeEmbedder(),
                           llm=FakeLLM(["NWL-VPN-809 means the certificate expired [1]."]))
    built.collections.upsert("kb", kb, "en")
    built.indexer.sync("kb")
    built.access.set_grants("kb", everyone=True)
    make_user(built, "agent", ["agent"])
    make_user(built, "rita", ["reviewer"])
    make_user(built, "otto", ["reviewer"])
    yield built
    built.close()


def draft(db: Services) -> str:
    agent = db.identity.as_user("agent")
    made = db.drafts.create(agent, "VPN error NWL-VPN-809?", ["kb"], allowed={"kb"},
                            customer=Customer(name="Ada", ticket_id="T-1"), tone="formal")
    return made.draft_id


def cli_run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def test_reviewer_lists_shows_and_approves(db: Services) -> None:
    draft_id = draft(db)
    listed = cli_run("review", "list", "--user", "rita")
    assert listed.exit_code == 0 and draft_id in listed.stdout
    assert "oldest pending" in listed.stdout
    shown = cli_run("review", "show", draft_id, "--user", "rita")
    assert "supported" in shown.stdout and "vpn.md" in shown.stdout
    approved = cli_run("review", "approve", draft_id, "--scores", "5,4,5,5", "--user", "rita")
    assert approved.exit_code == 0, approved.output
    view = db.drafts.view(draft_id, db.identity.as_user("agent"), readable={"kb"})
    assert view.state == "approved" and view.approved_text
    assert db.audit.latest("draft_approve") is not None


def test_reject_needs_a_reason_and_others_claim_is_respected(db: Services) -> None:
    draft_id = draft(db)
    assert cli_run("review", "claim", draft_id, "--user", "rita").exit_code == 0
    taken = cli_run("review", "reject", draft_id, "--scores", "2,2,3,3",
                    "--reason", "wrong_facts", "--user", "otto")
    assert taken.exit_code != 0 and "rita holds this draft" in str(taken.exception)
    bad = cli_run("review", "reject", draft_id, "--scores", "2,2,3", "--reason", "wrong_facts",
                  "--user", "rita")
    assert bad.exit_code != 0 and "four numbers" in str(bad.exception)
    done = cli_run("review", "reject", draft_id, "--scores", "2,2,3,3", "--reason",
                   "wrong_facts", "--comment", "809 is the certificate", "--user", "rita")
    assert done.exit_code == 0, done.output
    view = db.drafts.view(draft_id, db.identity.as_user("agent"), readable={"kb"})
    assert view.state == "rejected" and view.approved_text is None
    assert view.decision is not None and view.decision.comment == "809 is the certificate"


def test_an_agent_cannot_review(db: Services) -> None:
    draft_id = draft(db)
    r = cli_run("review", "claim", draft_id, "--user", "agent")
    assert r.exit_code != 0 and "reviewer role" in str(r.exception)


def test_nobody_reviews_their_own_draft_but_an_admin(db: Services) -> None:
    """Four eyes: an agent who is also a reviewer can't approve the reply they asked for."""
    make_user(db, "both", ["agent", "reviewer"])
    both = db.identity.as_user("both")
    made = db.drafts.create(both, "VPN error NWL-VPN-809?", ["kb"], allowed={"kb"},
                            customer=Customer(name="Ada"), tone="formal")
    r = cli_run("review", "claim", made.draft_id, "--user", "both")
    assert r.exit_code != 0 and "another reviewer must review it" in str(r.exception)
    assert cli_run("review", "claim", made.draft_id, "--user", "rita").exit_code == 0


def test_resubmitting_an_empty_text_is_refused(db: Services) -> None:
    from app.core.errors import InvalidInput

    draft_id = draft(db)
    with pytest.raises(InvalidInput):
        db.drafts.resubmit(db.identity.as_user("agent"), draft_id, readable={"kb"}, text="  ",
                           note="")
