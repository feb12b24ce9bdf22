"""Key rotation: during the overlap JWKS publishes both keys and tokens of either verify, on a
server that started before the rotation too; a retired key's tokens are refused at once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
from asgi_lifespan import LifespanManager

from hub.app import create_app
from hub.auth import keys as signing_keys
from hub.auth.server import ClientRecord
from hub.auth.tokens import HubTokenGenerator
from hub.directory.models import Role
from tests.conftest import make_settings
from tests.helpers import Actors

VIEWER = {"query": "{ viewer { role } }"}


def mint(settings: object, key_file: Path, actor: object) -> str:
    generator = HubTokenGenerator(settings, signing_keys.load_or_create(key_file))  # type: ignore[arg-type]
    record = ClientRecord(actor.client_id, "", actor.org.id, Role.BUYER, False)  # type: ignore[attr-defined]
    token: str = generator(
        grant_type="client_credentials", client=record, include_refresh_token=False
    )["access_token"]
    return token


def run_hub_keys(
    command: str, *args: str, key_file: Path, json: bool = False
) -> subprocess.CompletedProcess[str]:
    # `--` before the key id: a base64url key id may begin with "-" (this test failed now and
    # then until it said so, as the CLI's own advice now does)
    options = ["--json"] if json else []
    return subprocess.run(
        [sys.executable, "-m", "hub", "keys", command, *options, *(["--", *args] if args else [])],
        env={"HUB_SIGNING_KEY_FILE": str(key_file), "HUB_DATA_DIR": str(key_file.parent)},
        capture_output=True,
        text=True,
        check=False,
    )


def hub_keys(command: str, *args: str, key_file: Path) -> str:
    done = run_hub_keys(command, *args, key_file=key_file, json=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


async def test_rotate_then_retire(database_url: str, tmp_path: Path, actors: Actors) -> None:
    key_file = tmp_path / "rotating-keys.json"
    settings = make_settings(database_url, key_file)
    buyer = actors[Role.BUYER]
    app = create_app(settings)  # starts with one key
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as http:
            old_kid = (await http.get("/.well-known/jwks.json")).json()["keys"][0]["kid"]
            old = mint(settings, key_file, buyer)

            hub_keys("rotate", key_file=key_file)
            new = mint(settings, key_file, buyer)  # signed with the new first key
            for token in (old, new):
                r = await http.post(
                    "/graphql", json=VIEWER, headers={"Authorization": f"Bearer {token}"}
                )
                assert r.status_code == 200, r.text
                assert r.json()["data"] == {"viewer": {"role": "BUYER"}}, r.text
            published = [
                k["kid"] for k in (await http.get("/.well-known/jwks.json")).json()["keys"]
            ]
            assert len(published) == 2
            assert published[1] == old_kid

            # the signing key cannot be retired; the old one can
            refused = run_hub_keys("retire", published[0], key_file=key_file)
            assert refused.returncode == 2
            assert "rotate first" in refused.stderr
            hub_keys("retire", old_kid, key_file=key_file)
            import asyncio

            await asyncio.sleep(1.1)  # a remembered token is looked at again within a second
            gone = await http.post(
                "/graphql", json=VIEWER, headers={"Authorization": f"Bearer {old}"}
            )
            assert gone.status_code == 401
            still = await http.post(
                "/graphql", json=VIEWER, headers={"Authorization": f"Bearer {new}"}
            )
            assert still.status_code == 200
