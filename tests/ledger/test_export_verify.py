"""`hub ledger export` and `hub ledger verify`, run as an auditor would, on a real history;
then every kind of tampering, each on a copy of the export: verify names the broken rule."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from hub.directory.models import Role
from hub.ledger import merkle
from hub.ledger.events import LEAF_TYPE_LINE
from hub.ledger.note import Checkpoint, sign
from hub.ledger.tasks import integrate_once
from tests.helpers import Actors, gql, grant, make_published_assessment, revoke, run_hub

READ = "query($f: ID!) { factory(id: $f) { latestAssessment { summary { cluster } findings { questionCode } } } }"


@pytest.fixture
async def exported(
    http: httpx.AsyncClient, app: Starlette, actors: Actors, tmp_path: Path
) -> tuple[list[str], str]:
    factory = actors[Role.FACTORY].factory
    assert factory is not None
    await make_published_assessment(http, actors[Role.ASSESSOR], factory)
    buyer = actors[Role.BUYER]
    await gql(
        http,
        "mutation($f: ID!) { requestAccess(factoryId: $f, scopes: [SUMMARY]) { id } }",
        {"f": str(factory.id)},
        actor=buyer,
    )
    granted = await grant(http, actors[Role.FACTORY], buyer, ["SUMMARY", "FINDINGS"])
    await gql(http, READ, {"f": str(factory.id)}, actor=buyer)
    await integrate_once(app.state.sessions, app.state.ledger_key, app.state.settings.ledger_origin)
    await revoke(http, actors[Role.FACTORY], granted["id"])
    await grant(
        http, actors[Role.FACTORY], buyer, ["SUMMARY"], expires_at="2099-01-01T00:00:00+00:00"
    )
    await gql(http, READ, {"f": str(factory.id)}, actor=buyer)
    await integrate_once(app.state.sessions, app.state.ledger_key, app.state.settings.ledger_origin)
    out = tmp_path / "ledger.jsonl"
    made = run_hub(app.state.settings, "ledger", "export", "--out", str(out))
    assert made.returncode == 0, made.stderr
    key = run_hub(app.state.settings, "ledger", "public-key").stdout.strip()
    return out.read_text().splitlines(), key


def verify(
    app: Starlette, lines: list[str], key: str, tmp: Path
) -> subprocess.CompletedProcess[str]:
    path = tmp / "copy.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return run_hub(app.state.settings, "ledger", "verify", str(path), "--public-key", key)


def events(lines: list[str]) -> list[int]:
    return [i for i, line in enumerate(lines) if json.loads(line)["kind"] == "event"]


def leaf_of(line: str) -> dict[str, Any]:
    leaf = base64.b64decode(json.loads(line)["leaf"])
    result: dict[str, Any] = json.loads(leaf[len(LEAF_TYPE_LINE) :])
    return result


def with_leaf(line: str, event: dict[str, Any], *, rehash: bool) -> str:
    obj = json.loads(line)
    leaf = LEAF_TYPE_LINE + json.dumps(event, separators=(",", ":"), sort_keys=True).encode()
    obj["leaf"] = base64.b64encode(leaf).decode()
    if rehash:
        obj["leafHash"] = merkle.leaf_hash(leaf).hex()
    return json.dumps(obj)


def test_the_untouched_export_verifies(
    app: Starlette, exported: tuple[list[str], str], tmp_path: Path
) -> None:
    lines, key = exported
    result = verify(app, lines, key, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    # request, grant, digest, revoke, grant, digest
    assert result.stdout.startswith("OK: 6 events; 2 checkpoints")
    assert "disclosures" in result.stdout


def _edit(lines: list[str], rehash: bool) -> list[str]:
    i = next(i for i in events(lines) if leaf_of(lines[i])["type"] == "GRANTED")
    event = leaf_of(lines[i])
    event["scopes"] = ["FINDINGS", "IMPROVEMENT_PLAN", "SUMMARY"]
    return [*lines[:i], with_leaf(lines[i], event, rehash=rehash), *lines[i + 1 :]]


def _delete(lines: list[str]) -> list[str]:
    i = events(lines)[1]
    return lines[:i] + lines[i + 1 :]


def _insert(lines: list[str]) -> list[str]:
    i = events(lines)[2]
    return [*lines[: i + 1], lines[i], *lines[i + 1 :]]


def _swap(lines: list[str]) -> list[str]:
    i, j = events(lines)[1], events(lines)[2]
    copy = list(lines)
    copy[i], copy[j] = copy[j], copy[i]
    return copy


def _truncate(lines: list[str]) -> list[str]:
    last = events(lines)[-1]
    return [
        line
        for k, line in enumerate(lines)
        if k != last and not (k > last and json.loads(line)["kind"] == "event")
    ]


def _backdate(lines: list[str]) -> list[str]:
    grants = [i for i in events(lines) if leaf_of(lines[i])["type"] == "GRANTED"]
    i = grants[-1]
    event = leaf_of(lines[i])
    event["at"] = "2020-01-01T00:00:00.000000+00:00"
    return [*lines[:i], with_leaf(lines[i], event, rehash=True), *lines[i + 1 :]]


def _fork(app: Starlette) -> Callable[[list[str]], list[str]]:
    def fork(lines: list[str]) -> list[str]:
        note = json.loads(next(line for line in lines if json.loads(line)["kind"] == "checkpoint"))[
            "note"
        ]
        size = int(note.split("\n")[1])
        key = app.state.ledger_key
        forged, _ = sign(Checkpoint(key.name, size, b"\x07" * 32), key.name, key.private)
        return [lines[0], json.dumps({"kind": "checkpoint", "note": forged}), *lines[1:]]

    return fork


def _edit_disclosure(lines: list[str]) -> list[str]:
    i = next(i for i, line in enumerate(lines) if json.loads(line)["kind"] == "disclosure")
    obj = json.loads(lines[i])
    obj["record"][6] = "IMPROVEMENT_PLAN"
    return [*lines[:i], json.dumps(obj), *lines[i + 1 :]]


def _cite_the_revoked_grant(lines: list[str]) -> list[str]:
    # the disclosure made under the second grant now claims the first (revoked) one
    first_grant = next(
        i for i, k in enumerate(events(lines)) if leaf_of(lines[k])["type"] == "GRANTED"
    )
    i = [i for i, line in enumerate(lines) if json.loads(line)["kind"] == "disclosure"][-1]
    obj = json.loads(lines[i])
    obj["record"][7] = first_grant
    return [*lines[:i], json.dumps(obj), *lines[i + 1 :]]


CASES: list[tuple[str, Any, set[str]]] = [
    ("edit an event", lambda lines, app: _edit(lines, rehash=False), {"leaf-hash"}),
    (
        "edit an event and its hash",
        lambda lines, app: _edit(lines, rehash=True),
        {"checkpoint-root"},
    ),
    ("delete one", lambda lines, app: _delete(lines), {"index-gap"}),
    ("insert one", lambda lines, app: _insert(lines), {"index-gap", "event-id-unique"}),
    ("swap two", lambda lines, app: _swap(lines), {"index-gap"}),
    ("truncate the tail", lambda lines, app: _truncate(lines), {"checkpoint-size"}),
    ("backdate a grant", lambda lines, app: _backdate(lines), {"time-order"}),
    ("fork the checkpoints", lambda lines, app: _fork(app)(lines), {"checkpoint-fork"}),
    ("edit a disclosure", lambda lines, app: _edit_disclosure(lines), {"digest-mismatch"}),
    (
        "cite a revoked grant",
        lambda lines, app: _cite_the_revoked_grant(lines),
        {"disclosure-grant"},
    ),
]


@pytest.mark.parametrize(("name", "tamper", "rules"), CASES, ids=[c[0] for c in CASES])
def test_tampering_is_caught(
    app: Starlette,
    exported: tuple[list[str], str],
    tmp_path: Path,
    name: str,
    tamper: Any,
    rules: set[str],
) -> None:
    lines, key = exported
    result = verify(app, tamper(lines, app), key, tmp_path)
    assert result.returncode == 1, result.stdout
    named = {line.split()[1] for line in result.stdout.splitlines() if line.startswith("FAIL ")}
    assert named & rules, (name, result.stdout)


def test_another_key_verifies_nothing(
    app: Starlette, exported: tuple[list[str], str], tmp_path: Path
) -> None:
    lines, _ = exported
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from hub.ledger.note import verifier_key

    other = verifier_key("compliance-hub/consent-ledger", Ed25519PrivateKey.generate().public_key())
    result = verify(app, lines, other, tmp_path)
    assert result.returncode == 1
    assert "checkpoint-signature" in result.stdout


def test_the_verifier_needs_only_the_standard_library_and_cryptography() -> None:
    code = (
        "import sys, hub.ledger.verify; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'sqlalchemy', 'strawberry', 'starlette', 'asyncpg', 'casbin', 'authlib', 'joserfc', 'rfc8785'}); "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout
