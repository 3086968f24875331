"""The export of one person's records: admins only (an agent gets 403 and no export is
recorded), everything of that person and nothing of anyone else's, and every export audited
with who, whose and how many, never the content. Over HTTP and the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app.answering.tables import Answer
from app.cli.main import cli
from app.core.errors import Forbidden
from app.core.settings import Settings
from app.wiring import Services, build_services
from models.fakes import FakeEmbedder, FakeLLM
from tests.access import bearer, make_user
from tests.app.privacy.seed import seed


def question(services: Services, answer_id: str) -> str:
    with services.sessions() as session:
        answer = session.get(Answer, answer_id)
        assert answer is not None
        return answer.question


def services_of(client: TestClient) -> Services:
    return client.app.state.services  # type: ignore[attr-defined,no-any-return]


def test_an_admin_exports_one_persons_records_and_the_export_is_audited(
        client: TestClient) -> None:
    services = services_of(client)
    s = seed(services, "ann")
    make_user(services, "bob", ["agent"])
    got = client.get("/v1/admin/privacy/export", params={"user": "ann"})
    assert got.status_code == 200
    body = got.json()
    assert body["user"]["username"] == "ann" and body["exported_by"] == "tester"
    assert "id" not in body["user"]
    assert {a["answer_id"] for a in body["answers"]} == {s.old_answer, s.new_answer,
                                                         s.kept_answer}
    new = next(a for a in body["answers"] if a["answer_id"] == s.new_answer)
    assert new["question"] == f"secret question {s.new_answer}"
    assert {c["conversation_id"] for c in body["conversations"]} == {s.old_conversation,
                                                                     s.new_conversation}
    assert sorted(f["vote"] for f in body["feedback"]) == ["down", "up"]
    assert [h["handoff_id"] for h in body["handoffs"]] == ["old-handoff"]
    assert {d["draft_id"] for d in body["drafts"]} == {s.done_draft, s.open_draft,
                                                       s.new_draft}
    assert [p["score"] for p in body["pulse"]] == [9, None]
    entry = services.audit.latest("records_exported")
    assert entry is not None
    assert entry["details"] == {"answers": 3, "conversations": 2, "feedback": 2,
                                "handoffs": 1, "drafts": 3, "pulse": 2}
    (audited,) = [e for e in services.audit.entries() if e["action"] == "records_exported"]
    assert (audited["actor"], audited["target"]) == ("tester", "ann")
    bob = client.get("/v1/admin/privacy/export", params={"user": "bob"}).json()
    assert (bob["answers"], bob["drafts"], bob["pulse"]) == ([], [], [])


def test_an_agent_gets_403_and_nothing_is_exported(client: TestClient) -> None:
    services = services_of(client)
    seed(services, "ann")
    agent = bearer(make_user(services, "bob", ["agent", "reviewer", "manager"]))
    refused = client.get("/v1/admin/privacy/export", params={"user": "ann"}, headers=agent)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "missing_role"
    assert services.audit.latest("records_exported") is None
    bob = services.identity.as_user("bob")
    with pytest.raises(Forbidden):
        services.privacy.export("ann", bob)  # the service holds the rule too
    assert client.get("/v1/admin/privacy/export", params={"user": "ann"}).status_code == 200


def test_an_unknown_person_is_404_and_a_missing_name_422(client: TestClient) -> None:
    unknown = client.get("/v1/admin/privacy/export", params={"user": "nobody"})
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "user_not_found")
    assert client.get("/v1/admin/privacy/export").status_code == 422
    client.headers.pop("Authorization")
    assert client.get("/v1/admin/privacy/export", params={"user": "x"}).status_code == 401


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "cli-data"
    monkeypatch.setenv("VRAAGBAAK_DATA_DIR", str(data))
    monkeypatch.setenv("VRAAGBAAK_WARM_UP", "false")
    monkeypatch.delenv("VRAAGBAAK_DATABASE_URL", raising=False)
    return data


def test_the_cli_exports_and_runs_retention_audited_as_the_operator(
        data_dir: Path, tmp_path: Path) -> None:
    db = build_services(Settings(data_dir=data_dir, warm_up=False), embedder=FakeEmbedder(),
                        llm=FakeLLM())
    try:
        s = seed(db, "ann")
        out = tmp_path / "ann.json"
        result = CliRunner().invoke(cli, ["privacy", "export", "--user", "ann", "-o", str(out)])
        assert result.exit_code == 0, result.output
        assert "3 answers" in result.output
        exported = json.loads(out.read_text())
        assert exported["user"]["username"] == "ann" and len(exported["drafts"]) == 3
        entry = next(e for e in db.audit.entries() if e["action"] == "records_exported")
        assert entry["actor"].startswith("cli:") and entry["target"] == "ann"
        dry = CliRunner().invoke(cli, ["privacy", "retention", "--dry-run"])
        assert dry.exit_code == 0 and "would be anonymised" in dry.output
        assert "answers: 1 rows" in dry.output
        assert question(db, s.old_answer).startswith("secret")
        done = CliRunner().invoke(cli, ["privacy", "retention"])
        assert done.exit_code == 0 and "anonymised" in done.output
        assert question(db, s.old_answer) == ""
        applied = db.audit.latest("retention_applied")
        assert applied is not None
        again = CliRunner().invoke(cli, ["privacy", "retention"])
        assert "nothing to do" in again.output
        unknown = CliRunner().invoke(cli, ["privacy", "export", "--user", "nobody"])
        assert unknown.exit_code != 0
    finally:
        db.close()
