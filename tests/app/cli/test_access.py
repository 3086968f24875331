"""The admin's access commands (`vraagbaak users | teams | tokens | grants | audit`), run the
way an operator runs them: the real typer app against a data directory from the environment.

Success paths go through ``CliRunner``; error paths through ``app.cli.main()``, which is what
the installed ``vraagbaak`` script calls and the only place errors become one clean line."""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from app.cli.main import cli, main
from app.core.errors import NotFound, Unauthorized
from app.core.settings import Settings
from app.wiring import Services, build_services
from models.fakes import FakeEmbedder, FakeLLM

GENERATED = re.compile(r"generated password \(shown once\): (\S+)")


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "data"
    monkeypatch.setenv("VRAAGBAAK_DATA_DIR", str(data))
    monkeypatch.setenv("VRAAGBAAK_WARM_UP", "false")
    monkeypatch.delenv("VRAAGBAAK_DATABASE_URL", raising=False)
    monkeypatch.setenv("COLUMNS", "200")  # rich tables: no truncated columns
    return data


@pytest.fixture
def db(data_dir: Path) -> Iterator[Services]:
    """The same database the commands use, opened directly to check what they did."""
    built = build_services(Settings(data_dir=data_dir, warm_up=False),
                           embedder=FakeEmbedder(), llm=FakeLLM())
    yield built
    built.close()


def run(*args: str, input: str | None = None) -> Result:
    result = CliRunner().invoke(cli, list(args), input=input)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        result.output, result.exception)
    return result


def ok(*args: str, input: str | None = None) -> Result:
    result = run(*args, input=input)
    assert result.exit_code == 0, result.output
    return result


def run_main(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str,
             stdin: str = "") -> tuple[int | str | None, str, str]:
    """``vraagbaak ARGS`` through the real entry point: (exit code, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", ["vraagbaak", *args])
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    with pytest.raises(SystemExit) as exited:
        main()
    captured = capsys.readouterr()
    return exited.value.code, captured.out, captured.err


def assert_one_line_error(err: str, message: str) -> None:
    assert err.startswith("error: ") and err.endswith("\n")
    assert err.count("\n") == 1, err
    assert message in err
    assert "Traceback" not in err


def actions(db: Services) -> list[str]:
    return [e["action"] for e in db.audit.entries()]


# -- users ---------------------------------------------------------------------------------------
def test_create_without_tty_prints_a_generated_password_once(db: Services) -> None:
    result = ok("users", "create", "admin", "--role", "admin")
    assert "created admin (admin)" in result.stdout
    [password] = GENERATED.findall(result.stdout)
    assert len(password) >= 12
    assert result.output.count(password) == 1
    user = db.users.authenticate("admin", password)
    assert user is not None and user.roles == ["admin"]
    assert db.users.authenticate("admin", password + "x") is None
    [entry] = list(db.audit.entries())
    assert entry["action"] == "user_created" and entry["target"] == "admin"
    assert entry["actor"].startswith("cli:") and entry["details"]["sign_in"] is True
    assert password not in json.dumps(entry)


def test_create_reads_the_password_from_stdin(db: Services) -> None:
    result = ok("users", "create", "alice", "--password-stdin", input="a-long-passphrase\n")
    assert "created alice (agent)" in result.stdout  # agent is the default role
    assert "generated password" not in result.output
    assert "a-long-passphrase" not in result.output
    assert db.users.authenticate("alice", "a-long-passphrase") is not None
    assert db.users.authenticate("alice", "a-long-passphrase\n") is None


def test_create_without_password_is_token_only(db: Services) -> None:
    result = ok("users", "create", "robot", "--no-password")
    assert "generated password" not in result.output
    assert db.users.get("robot").password_set is False


def test_generate_password_ignores_stdin(db: Services) -> None:
    result = ok("users", "create", "carol", "--generate-password", input="not-this-one-pw\n")
    [password] = GENERATED.findall(result.stdout)
    assert db.users.authenticate("carol", password) is not None
    assert db.users.authenticate("carol", "not-this-one-pw") is None


def test_short_password_is_a_one_line_error(
        db: Services, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run_main(monkeypatch, capsys, "users", "create", "bob", "--password-stdin",
                               stdin="short\n")
    assert code == 1
    assert_one_line_error(err, "passwords need at least 12 characters")
    with pytest.raises(NotFound):
        db.users.get("bob")
    assert actions(db) == []


def test_main_exits_zero_on_success(
        db: Services, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_main(monkeypatch, capsys, "users", "create", "bob", "--password-stdin",
                              stdin="long-enough-password\n")
    assert code == 0 and "created bob" in out and "error" not in err
    assert db.users.authenticate("bob", "long-enough-password") is not None


def test_if_missing_leaves_an_existing_user_alone(db: Services) -> None:
    ok("users", "create", "admin", "--role", "admin", "--password-stdin",
       input="the-first-password\n")
    again = ok("users", "create", "admin", "--role", "agent", "--if-missing")
    assert "user admin exists; left as it is" in again.stdout
    assert "generated password" not in again.output
    user = db.users.authenticate("admin", "the-first-password")
    assert user is not None and user.roles == ["admin"]
    assert actions(db) == ["user_created"]


def test_duplicate_user_without_if_missing_is_a_one_line_error(
        db: Services, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    ok("users", "create", "admin", "--role", "admin")
    code, out, err = run_main(monkeypatch, capsys, "users", "create", "admin", "--role", "admin")
    assert code == 1
    assert_one_line_error(err, "user 'admin' already exists")
    assert "generated password" not in out
    assert actions(db) == ["user_created"]


def test_invalid_role_is_a_one_line_error(
        db: Services, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run_main(monkeypatch, capsys, "users", "create", "eve", "--role", "root")
    assert code == 1
    assert_one_line_error(err, "roles must be one or more of")


# -- teams and memberships -----------------------------------------------------------------------
def test_teams_create_and_users_set(db: Services) -> None:
    assert "created team support" in ok("teams", "create", "support").stdout
    ok("users", "create", "alice", "--role", "reviewer", "--no-password")
    result = ok("users", "set", "alice", "--team", "support", "--role", "agent")
    assert "alice: agent; teams: support; active" in result.stdout
    user = db.users.get("alice")
    assert user.roles == ["agent"] and user.teams == ["support"]
    assert "support: alice" in ok("teams", "list").stdout
    assert actions(db) == ["team_created", "user_created", "user_changed"]
    assert ok("users", "list").stdout.count("alice") == 1


def test_users_set_unknown_team_is_a_one_line_error(
        db: Services, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    ok("users", "create", "alice", "--no-password")
    code, _out, err = run_main(monkeypatch, capsys, "users", "set", "alice", "--team", "nosuch")
    assert code == 1
    assert_one_line_error(err, "team 'nosuch' not found")
    assert db.users.get("alice").teams == []


def test_duplicate_team_is_a_one_line_error(
        db: Services, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    ok("teams", "create", "support")
    code, _out, err = run_main(monkeypatch, capsys, "teams", "create", "support")
    assert code == 1
    assert_one_line_error(err, "team 'support' already exists")


# -- tokens --------------------------------------------------------------------------------------
def create_token(username: str) -> str:
    result = ok("tokens", "create", username, "--name", "laptop")
    token = result.stdout.strip()
    assert "\n" not in token  # stdout is the token alone: TOKEN=$(vraagbaak tokens create ...)
    return token


def test_tokens_create_prints_a_working_token(db: Services) -> None:
    ok("users", "create", "alice", "--no-password")
    result = ok("tokens", "create", "alice", "--name", "laptop")
    token = result.stdout.strip()
    assert token.startswith("vbk_")
    assert "for alice" in result.stderr and token not in result.stderr
    principal = db.identity.from_token(token)
    assert principal.username == "alice" and principal.roles == frozenset({"agent"})
    with pytest.raises(Unauthorized):
        db.identity.from_token(token[:-1] + ("A" if token[-1] != "A" else "B"))
    [entry] = [e for e in db.audit.entries() if e["action"] == "token_created"]
    assert entry["target"] == "alice" and token not in json.dumps(entry)


def test_tokens_list_shows_the_prefix_never_the_secret(db: Services) -> None:
    ok("users", "create", "alice", "--no-password")
    token = create_token("alice")
    [view] = db.identity.tokens.list(db.users.get("alice").id)
    listing = ok("tokens", "list", "alice").stdout
    assert view.prefix in listing and view.id in listing
    assert "laptop" in listing and "active" in listing
    secret = token[len(view.prefix) + 1:]
    assert token not in listing and secret not in listing


def test_tokens_revoke_makes_the_token_unusable(db: Services) -> None:
    ok("users", "create", "alice", "--no-password")
    token = create_token("alice")
    assert db.identity.from_token(token).username == "alice"
    [view] = db.identity.tokens.list(db.users.get("alice").id)
    assert f"revoked {view.prefix}" in ok("tokens", "revoke", view.id).stdout
    with pytest.raises(Unauthorized) as refused:
        db.identity.from_token(token)
    assert refused.value.code == "token_revoked"
    assert "revoked" in ok("tokens", "list", "alice").stdout
    assert actions(db)[-1] == "token_revoked"


def test_tokens_for_unknown_user_or_token_are_one_line_errors(
        db: Services, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_main(monkeypatch, capsys, "tokens", "create", "ghost")
    assert code == 1 and out == ""
    assert_one_line_error(err, "user 'ghost' not found")
    code, _out, err = run_main(monkeypatch, capsys, "tokens", "revoke", "0" * 32)
    assert code == 1
    assert_one_line_error(err, "token not found")


def test_disabling_a_user_revokes_their_tokens(db: Services) -> None:
    ok("users", "create", "alice", "--no-password")
    token = create_token("alice")
    ok("users", "set", "alice", "--disabled")
    with pytest.raises(Unauthorized):
        db.identity.from_token(token)


# -- grants --------------------------------------------------------------------------------------
@pytest.fixture
def granted_setup(db: Services, kb: Path) -> Services:
    db.collections.upsert("kb", kb, "en")
    ok("teams", "create", "support")
    ok("users", "create", "alice", "--team", "support", "--no-password")
    ok("users", "create", "bob", "--no-password")
    return db


def readable(db: Services, username: str) -> frozenset[str]:
    return db.access.readable(db.identity.as_user(username))


def test_grants_add_and_remove_a_team(granted_setup: Services) -> None:
    db = granted_setup
    assert "kb: admins only" in ok("grants", "show").stdout
    assert readable(db, "alice") == frozenset()

    assert "kb: team support" in ok("grants", "add", "kb", "--team", "support").stdout
    assert db.access.grants("kb") == {"collection": "kb", "everyone": False,
                                      "teams": ["support"]}
    assert readable(db, "alice") == {"kb"} and readable(db, "bob") == frozenset()

    assert "kb: admins only" in ok("grants", "remove", "kb", "--team", "support").stdout
    assert readable(db, "alice") == frozenset()
    changes = [e for e in db.audit.entries() if e["action"] == "grants_changed"]
    assert [c["details"]["after"]["teams"] for c in changes] == [["support"], []]
    assert changes[0]["details"]["before"] == {"everyone": False, "teams": []}


def test_grants_add_and_remove_everyone(granted_setup: Services) -> None:
    db = granted_setup
    ok("grants", "add", "kb", "--team", "support")
    assert "kb: everyone, team support" in ok("grants", "add", "kb", "--everyone").stdout
    assert readable(db, "bob") == {"kb"}
    assert "kb: everyone, team support" in ok("grants", "show", "kb").stdout
    assert "kb: team support" in ok("grants", "remove", "kb", "--everyone").stdout
    assert db.access.grants("kb")["everyone"] is False
    assert readable(db, "bob") == frozenset() and readable(db, "alice") == {"kb"}


def test_grant_that_changes_nothing_is_not_audited(granted_setup: Services) -> None:
    ok("grants", "add", "kb", "--team", "support")
    ok("grants", "add", "kb", "--team", "support")
    ok("grants", "remove", "kb", "--everyone")  # was not public
    assert actions(granted_setup).count("grants_changed") == 1


def test_grants_errors_are_one_line(
        granted_setup: Services, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    before = actions(granted_setup)
    code, _out, err = run_main(monkeypatch, capsys, "grants", "add", "kb")
    assert code == 1
    assert_one_line_error(err, "say --team NAME and/or --everyone")
    code, _out, err = run_main(monkeypatch, capsys, "grants", "add", "kb", "--team", "nosuch")
    assert code == 1
    assert_one_line_error(err, "team 'nosuch' not found")
    code, _out, err = run_main(monkeypatch, capsys, "grants", "add", "nope", "--everyone")
    assert code == 1
    assert_one_line_error(err, "collection 'nope' not found")
    assert granted_setup.access.grants("kb")["teams"] == []
    assert actions(granted_setup) == before


# -- audit export --------------------------------------------------------------------------------
def test_audit_export_csv_to_a_file(db: Services, tmp_path: Path) -> None:
    ok("teams", "create", "support")
    ok("users", "create", "alice", "--no-password")
    target = tmp_path / "audit.csv"
    result = ok("audit", "export", "--format", "csv", "-o", str(target))
    assert result.stdout == ""
    header, *rows = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert header == ["seq", "at", "actor", "action", "target", "details", "prev_hash", "hash"]
    assert [r[3] for r in rows] == ["team_created", "user_created"]
    assert json.loads(rows[1][5]) == {"roles": ["agent"], "teams": [], "sign_in": False}
    assert actions(db)[-1] == "audit_exported"  # recorded after the export it describes


def test_audit_export_jsonl_to_stdout_with_filter(db: Services) -> None:
    ok("teams", "create", "support")
    ok("users", "create", "alice", "--no-password")
    ok("users", "create", "bob", "--no-password")
    everything = [json.loads(line) for line in ok("audit", "export").stdout.splitlines()]
    assert [e["action"] for e in everything] == ["team_created", "user_created", "user_created"]
    assert [e["seq"] for e in everything] == [1, 2, 3]
    only = ok("audit", "export", "--action", "user_created").stdout.splitlines()
    assert [json.loads(line)["target"] for line in only] == ["alice", "bob"]
    exports = [json.loads(line) for line in
               ok("audit", "export", "--action", "audit_exported").stdout.splitlines()]
    assert [e["details"]["filter"]["action"] for e in exports] == [None, "user_created"]
    assert db.audit.verify().ok


def test_audit_export_bad_format_is_a_one_line_error(
        db: Services, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_main(monkeypatch, capsys, "audit", "export", "--format", "xml")
    assert code == 1 and out == ""
    assert_one_line_error(err, "--format is jsonl or csv")
    assert actions(db) == []
