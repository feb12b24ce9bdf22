"""`hub serve` and `hub demo`: uvicorn in front of create_app."""

from __future__ import annotations

import asyncio
import secrets
import signal
import sys
from dataclasses import replace
from types import FrameType

import uvicorn
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from hub.accounts.service import Accounts
from hub.auth import keys as signing_keys
from hub.auth.server import ClientRecord
from hub.auth.tokens import HubTokenGenerator
from hub.config import Settings, export_to_workers
from hub.db.engine import build_engine
from hub.db.migrate import head_revision
from hub.directory.models import Role
from hub.directory.repository import DirectoryRepository
from hub.directory.service import DirectoryService
from hub.ops.demo import DemoOrgs
from hub.ops.logs import log_config

DEMO_TOKEN_LIFETIME = 12 * 3600


def serve(
    settings: Settings, *, host: str, port: int, workers: int = 1, access_log: bool = True
) -> None:
    # create the key file once, before workers race to create it
    signing_keys.load_or_create(settings.signing_key_file)
    if not asyncio.run(_at_head(settings)):
        print(
            "hub: warning: the database is not at the latest migration; run `hub db upgrade`",
            file=sys.stderr,
        )
    # uvicorn re-raises SIGTERM after its graceful shutdown; with the default action the process
    # would die without running atexit hooks, leaving the embedded PostgreSQL running
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    # each worker takes its share of the per-client budgets (hub.graphql.ratelimit)
    export_to_workers(workers, access_log)
    uvicorn.run(
        "hub.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=log_config(settings.log_format),
        # the hub writes its own access line (hub.ops.logs.RequestLog), without query strings
        access_log=False,
        proxy_headers=True,
        # open WebSockets (subscriptions) must not hold a stopping server forever
        timeout_graceful_shutdown=10,
        ws_max_size=settings.max_body,
    )


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


async def _at_head(settings: Settings) -> bool:
    engine = build_engine(settings)
    try:
        async with engine.connect() as conn:
            exists = (await conn.execute(text("SELECT to_regclass('alembic_version')"))).scalar()
            if exists is None:
                return False
            current = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
            return bool(current == head_revision())
    finally:
        await engine.dispose()


def run_demo(settings: Settings, *, host: str, port: int, serve_after: bool) -> None:
    from hub.ops.database import prepare_database

    prepare_database(settings)
    lines, story, logins = asyncio.run(_load_and_mint(settings))
    base = f"http://{host}:{port}"
    print(f"\nCompliance Hub demo\n  GraphiQL:  {base}/graphql")
    print(f"  console:   {base}/console/  (people sign in here; the password is new each run)")
    for line in logins:
        print(line)
    print(f"  tokens (valid {DEMO_TOKEN_LIFETIME // 3600} h; send as 'Authorization: Bearer …'):")
    for line in lines:
        print(line)
    print(DEMO_STORY.format(**story))
    sys.stdout.flush()
    if serve_after:
        # plain log lines: the demo is for a person at a terminal
        serve(replace(settings, log_format="text"), host=host, port=port)


DEMO_STORY = """
  The story, in GraphiQL (header {{"Authorization": "Bearer <token>"}}):
  1. as BUYER, read the consented report of Angkor Garment:
       {{ factory(id: "{factory}") {{ name access latestAssessment {{ cycle
          summary {{ cluster complianceRate }}
          findings(noncompliantOnly: true) {{ questionCode question }} }} }} }}
  2. as FACTORY, revoke it:
       mutation {{ revokeConsent(consentId: "{consent}", reason: "demo")
          {{ status ledgerSeq }} }}
  3. as BUYER, run 1 again: access is [] and latestAssessment is null with a FORBIDDEN error.
     (As FACTORY, grant it again:
      mutation {{ grantConsent(buyerId: "{buyer}", scopes: [SUMMARY, FINDINGS]) {{ status }} }}
     and see who read what: {{ disclosures {{ totalCount }} }})
"""


async def _demo_logins(session: AsyncSession, demo: DemoOrgs) -> list[str]:
    """A person for the demo factory and one for the auditor, with a fresh password."""
    accounts = Accounts(session)
    lines = []
    for role in (Role.FACTORY, Role.AUDITOR):
        org = demo.by_role[role]
        email = f"{role.value.lower()}@demo.compliance-hub.example"
        password = secrets.token_urlsafe(12)
        if not await accounts.set_password(email, password):
            await accounts.create_user(org.id, email, password)
        lines.append(f"  {role.value:<9} {email}  password: {password}  ({org.name})")
    return lines


async def _load_and_mint(
    settings: Settings,
) -> tuple[list[str], dict[str, str], list[str]]:
    from hub.db.engine import build_sessionmaker
    from hub.ops.demo import load_demo

    engine = build_engine(settings)
    keys = signing_keys.load_or_create(settings.signing_key_file)
    generator = HubTokenGenerator(settings, keys, lifetime=DEMO_TOKEN_LIFETIME)
    lines: list[str] = []
    try:
        async with build_sessionmaker(engine)() as session, session.begin():
            demo = await load_demo(session)
            logins = await _demo_logins(session, demo)
            for role in Role:
                org = demo.by_role[role]
                clients = await DirectoryRepository(session).clients_of(org.id)
                if clients:
                    client = clients[0]
                else:
                    client = (await DirectoryService(session).create_client(org.id, "demo")).client
                record = ClientRecord(client.client_id, client.secret_hash, org.id, role, False)
                token = generator(
                    grant_type="client_credentials", client=record, include_refresh_token=False
                )
                lines.append(f"  {role.value:<9} {org.name}\n            {token['access_token']}")
            assert demo.consent is not None
            story = {
                "factory": str(demo.consent.factory_id),
                "consent": str(demo.consent.id),
                "buyer": str(demo.consent.buyer_org_id),
            }
    finally:
        await engine.dispose()
    return lines, story, logins
