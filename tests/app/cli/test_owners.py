"""``vraagbaak owners add | remove | list``: the real typer app against a data directory
from the environment; changes audited under ``cli:``, errors one clean line."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.wiring import Services
from tests.app.cli.test_access import actions, assert_one_line_error, data_dir, db, ok, run_main
from tests.conftest import write_kb

__all__ = ["data_dir", "db"]  # the fixtures, shared with the access commands' tests


@pytest.fixture
def company(db: Services, tmp_path: Path) -> Services:
    db.collections.upsert("kb", write_kb(tmp_path / "kb"), "en")
    db.users.create_team("printing")
    db.users.create("olga", roles=["agent"])
    return db


def test_add_list_and_remove_owners(company: Services) -> None:
    assert "user olga owns kb/" in ok("owners", "add", "kb", "--user", "olga").stdout
    assert "team printing owns kb/printing" in ok(
        "owners", "add", "kb", "--team", "printing", "--folder", "/printing/").stdout
    listed = ok("owners", "list").stdout
    assert "olga" in listed and "printing" in listed and "(all)" in listed
    assert [(o.folder, o.name) for o in company.owners.of("kb")] == [
        ("", "olga"), ("printing", "printing")]
    ok("owners", "remove", "kb", "--team", "printing", "--folder", "printing")
    assert [o.name for o in company.owners.of("kb")] == ["olga"]
    assert actions(company)[-3:] == ["owner_added", "owner_added", "owner_removed"]
    entry = list(company.audit.entries())[-1]
    assert entry["actor"].startswith("cli:") and entry["details"]["name"] == "printing"


def test_owner_errors_are_one_line(company: Services, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    for args, message in ((("kb",), "name a user or a team"),
                          (("kb", "--user", "olga", "--team", "printing"),
                           "name a user or a team"),
                          (("kb", "--user", "nobody"), "user 'nobody' not found"),
                          (("nope", "--user", "olga"), "collection 'nope' not found")):
        code, _out, err = run_main(monkeypatch, capsys, "owners", "add", *args)
        assert code == 1
        assert_one_line_error(err, message)
    code, _out, err = run_main(monkeypatch, capsys, "owners", "remove", "kb", "--user", "olga")
    assert code == 1
    assert_one_line_error(err, "olga does not own kb/")
    assert company.owners.of("kb") == []
