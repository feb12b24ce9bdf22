"""The `hub` command run as a newcomer would: a real process, a real database, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import make_settings
from tests.helpers import run_hub


def hub(
    database_url: str, key_file: Path, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return run_hub(make_settings(database_url, key_file), *args, stdin=stdin, timeout=60)


def test_org_and_client_create(database_url: str, key_file: Path) -> None:
    made = hub(
        database_url,
        key_file,
        "org",
        "create",
        "--role",
        "factory",
        "--name",
        "Phnom Penh Knits",
        "--country",
        "kh",
        "--address",
        "Street 1",
        "--os-id",
        "KH123",
        "--json",
    )
    assert made.returncode == 0, made.stderr
    org = json.loads(made.stdout)
    assert set(org) >= {"id", "factory_id", "hub_id"}

    claimed = hub(
        database_url,
        key_file,
        "org",
        "create",
        "--role",
        "FACTORY",
        "--name",
        "Second owner",
        "--claim",
        org["hub_id"],
        "--json",
    )
    assert claimed.returncode == 2
    assert claimed.stderr.strip().count("\n") == 0
    assert "already claimed" in claimed.stderr

    client = hub(database_url, key_file, "client", "create", "--org", org["id"], "--json")
    assert client.returncode == 0, client.stderr
    creds = json.loads(client.stdout)
    assert creds["client_id"].startswith("chc_")
    assert len(creds["client_secret"]) >= 40


def test_human_output_without_json(database_url: str, key_file: Path) -> None:
    made = hub(
        database_url,
        key_file,
        "org",
        "create",
        "--role",
        "BUYER",
        "--name",
        "Brand",
        "--country",
        "GB",
    )
    assert made.returncode == 0
    assert made.stdout.startswith("organisation ")


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["org", "create", "--role", "OVERLORD", "--name", "x"], "unknown role"),
        (["org", "create", "--role", "BUYER", "--name", "x", "--country", "ZZ"], "unknown country"),
        (["org", "create", "--role", "BUYER", "--name", "  "], "needs a name"),
        (["org", "create", "--role", "FACTORY", "--name", "x"], "needs --country"),
        (
            ["org", "create", "--role", "FACTORY", "--name", "x", "--claim", "CH-NOTHERE"],
            "no factory",
        ),
        (
            ["org", "create", "--role", "BUYER", "--name", "x", "--claim", "CH-1"],
            "FACTORY organisations",
        ),
        (["client", "create", "--org", "not-a-uuid"], "--org must be an id"),
        (["client", "create", "--org", "00000000-0000-0000-0000-000000000000"], "no organisation"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    database_url: str, key_file: Path, args: list[str], reason: str
) -> None:
    result = hub(database_url, key_file, *args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert reason in lines[0]
    assert "Traceback" not in result.stderr


def test_missing_arguments_exit_2(database_url: str, key_file: Path) -> None:
    result = hub(database_url, key_file, "org", "create", "--name", "x")
    assert result.returncode == 2
    assert "--role" in result.stderr


def test_bad_setting_exits_2(database_url: str, key_file: Path) -> None:
    env = {**os.environ, "DATABASE_URL": "mysql://nope", "HUB_SIGNING_KEY_FILE": str(key_file)}
    result = subprocess.run(
        [sys.executable, "-m", "hub", "db", "upgrade"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "DATABASE_URL" in result.stderr


def test_db_upgrade_is_repeatable(database_url: str, key_file: Path) -> None:
    result = hub(database_url, key_file, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    assert "questions" in result.stdout
