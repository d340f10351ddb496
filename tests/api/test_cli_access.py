"""``finance-engine keys``, ``consents`` and ``serve`` (the command line around the API)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
import pytest

from finance_engine.cli import keys as keys_cli
from finance_engine.cli import serve as serve_cli
from finance_engine.cli.common import run_cli

from .conftest import LENDER_A, World


@click.group()
def cli() -> None:
    """A group with the API commands only."""


keys_cli.register(cli)
serve_cli.register(cli)


@pytest.fixture
def run(fresh_world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("FINANCE_ENGINE_DATABASE_URL", fresh_world.settings.database_url)
    monkeypatch.setenv("FINANCE_ENGINE_INSTANCE_PATH", str(fresh_world.settings.instance_path))

    def invoke(*args: str) -> tuple[int, str, str]:
        code = run_cli(cli, list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return invoke


def test_a_created_key_is_printed_once_and_works(run, fresh_world: World) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run("keys", "create", "--role", "bank_system", "--lender", LENDER_A, "--json")
    assert code == 0
    created = json.loads(out)
    token = created["token"]
    client = fresh_world.client()
    assert (
        client.get("/api/v1/entities/F01", headers={"Authorization": f"Bearer {token}"}).status_code
        == 200
    )
    code, out, _ = run("keys", "list", "--json")
    assert created["id"] in out
    assert token not in out
    assert run("keys", "revoke", created["id"])[0] == 0
    # another process revoked it: this worker trusts its cache until the TTL; skip the wait
    fresh_world.app.extensions["finance_engine.api"].verifier.forget(created["id"])
    assert (
        client.get("/api/v1/entities/F01", headers={"Authorization": f"Bearer {token}"}).status_code
        == 401
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--role", "bank_system"), "lender: required"),
        (("--role", "admin", "--lender", LENDER_A), "lender: a admin key acts for no lender"),
        (("--role", "loan_officer", "--lender", "nobody"), "not a lender of the product catalog"),
        (("--role", "admin", "--expires", "2001-01-01"), "expires_at: must be in the future"),
    ],
)
def test_bad_keys_exit_2_naming_the_field(run, args: tuple[str, ...], message: str) -> None:  # type: ignore[no-untyped-def]
    code, _, err = run("keys", "create", *args)
    assert code == 2
    assert message in err


def test_consents_grant_list_and_revoke(run, fresh_world: World) -> None:  # type: ignore[no-untyped-def]
    bank = fresh_world.auth("bank_system")
    client = fresh_world.client()
    assert client.get("/api/v1/entities/F05", headers=bank).status_code == 404
    code, out, _ = run("consents", "grant", "--entity", "F05", "--lender", LENDER_A, "--json")
    assert code == 0
    assert json.loads(out)["created"] is True
    assert client.get("/api/v1/entities/F05", headers=bank).status_code == 200
    code, out, _ = run("consents", "list", "--entity", "F05", "--active", "--json")
    assert [c["lender"] for c in json.loads(out)] == [LENDER_A]
    code, out, _ = run("consents", "revoke", "--entity", "F05", "--lender", LENDER_A)
    assert code == 0
    assert "revoked 1 consent(s)" in out
    assert client.get("/api/v1/entities/F05", headers=bank).status_code == 404
    code, _, err = run("consents", "grant", "--entity", "NOPE", "--lender", LENDER_A)
    assert (code, "entity_id: unknown entity 'NOPE'" in err) == (2, True)


def test_serve_runs_gunicorn_with_the_packaged_config() -> None:
    argv = serve_cli.gunicorn_argv("127.0.0.1:9000", 2, 20)
    assert argv[:5] == [
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        "python:finance_engine.gunicorn_conf",
    ]
    assert argv[5:] == [
        "--bind",
        "127.0.0.1:9000",
        "--workers",
        "2",
        "--timeout",
        "20",
        "finance_engine.app:create_app()",
    ]


def test_serve_refuses_an_old_schema(run_empty) -> None:  # type: ignore[no-untyped-def]
    code, _, err = run_empty("serve")
    assert code == 2
    assert "finance-engine init" in err


@pytest.fixture
def run_empty(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("FINANCE_ENGINE_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("FINANCE_ENGINE_DATABASE_URL", raising=False)

    def invoke(*args: str) -> tuple[int, str, str]:
        code = run_cli(cli, list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return invoke
