#!/usr/bin/env python3
"""Load a shared-benchmark dataset (../shared/bench/gen_data.py) into the hub's own tables, the
way the hub holds it, and write what the adapter needs.

    DATABASE_URL=… HUB_SIGNING_KEY_FILE=… python bench/load_dataset.py --data DIR --state DIR

- buyers become BUYER organisations; every factory gets a FACTORY organisation that claims it
  (W4's grants come from the factory); factories are inserted in file order, so the hub's
  directory order is the dataset's id order;
- the dataset's compliance points (CL.1 … WT.15) join the catalogue, assessments are
  published with their answers (compliant = not noncompliant);
- consents become ledger events (GRANTED, then REVOKED where revoked_at is set) through the
  ledger repository, and current-state rows; the enforcer's projection is built from them;
- state/ids.json maps dataset ids to hub ids, state/tokens.json holds one access token per
  buyer and per factory (valid for TOKEN_HOURS).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import sys
import uuid
from datetime import date, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, text

from hub.assessments.models import Assessment, AssessmentStatus, Cluster, Question
from hub.assessments.repository import AssessmentRepository
from hub.auth import keys as signing_keys
from hub.auth.server import ClientRecord
from hub.auth.tokens import HubTokenGenerator
from hub.config import Settings
from hub.consent.models import Consent, ConsentStatus
from hub.db.engine import build_engine, build_sessionmaker
from hub.directory.models import Factory, Organization, Role
from hub.ledger.events import EventType, NewEvent
from hub.ledger.repository import LedgerRepository
from hub.matching.models import MatchOutcome, SupplierLink
from hub.matching.normalise import normalise_address, normalise_name

TOKEN_HOURS = 6
CLUSTER_OF = {c: c for c in (x.value for x in Cluster)} | {"CONTRACTS_HR": "CONTRACTS_AND_HR"}


def rows(data: Path, name: str) -> list[dict[str, Any]]:
    with open(data / f"{name}.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def when(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


async def load(data: Path, state: Path, settings: Settings) -> None:
    engine = build_engine(settings)
    sessions = build_sessionmaker(engine)
    buyers, factories = rows(data, "buyers"), rows(data, "factories")
    ids: dict[str, dict[str, str]] = {
        "buyers": {},
        "factories": {},
        "factory_orgs": {},
        "assessments": {},
    }
    async with sessions() as s, s.begin():
        # a bulk load, as pg_restore does it: no per-row triggers (foreign keys, the data
        # revision's deferred bump: 5 million of them at COMMIT for the large dataset); the data
        # is consistent by construction and the revision is bumped once at the end
        await s.execute(text("SET LOCAL session_replication_role = replica"))
        assessor = uuid.uuid4()
        await s.execute(
            insert(Organization).values(id=assessor, role=Role.ASSESSOR, name="Bench Assessor")
        )
        buyer_rows = [
            {"id": uuid.uuid4(), "role": Role.BUYER, "name": b["name"], "country": b["country"]}
            for b in buyers
        ]
        await s.execute(insert(Organization), buyer_rows)
        ids["buyers"] = {
            str(b["id"]): str(r["id"]) for b, r in zip(buyers, buyer_rows, strict=True)
        }
        owner_rows = [
            {"id": uuid.uuid4(), "role": Role.FACTORY, "name": f["name"], "country": f["country"]}
            for f in factories
        ]
        await s.execute(insert(Organization), owner_rows)
        factory_rows = [
            {
                "id": uuid.uuid4(),
                "hub_id": f"CH-D{f['id']:07d}",
                "name": f["name"],
                "address": f.get("address"),
                "country": f["country"],
                "worker_count": f.get("workers"),
                "norm_name": normalise_name(f["name"]),
                "norm_address": normalise_address(f.get("address")),
                "claimed_by_org_id": o["id"],
            }
            for f, o in zip(factories, owner_rows, strict=True)
        ]
        for start in range(0, len(factory_rows), 2000):  # in file order: seq follows dataset ids
            await s.execute(insert(Factory), factory_rows[start : start + 2000])
        ids["factories"] = {
            str(f["id"]): str(r["id"]) for f, r in zip(factories, factory_rows, strict=True)
        }
        ids["factory_orgs"] = {
            str(f["id"]): str(o["id"]) for f, o in zip(factories, owner_rows, strict=True)
        }
        fid = {int(k): uuid.UUID(v) for k, v in ids["factories"].items()}
        bid = {int(k): uuid.UUID(v) for k, v in ids["buyers"].items()}

        links = rows(data, "supplier_links")
        for start in range(0, len(links), 5000):
            await s.execute(
                insert(SupplierLink),
                [
                    {
                        "id": uuid.uuid4(),
                        "buyer_org_id": bid[x["buyer_id"]],
                        "factory_id": fid[x["factory_id"]],
                        "buyer_ref": x["buyer_ref"],
                        "outcome": MatchOutcome.MATCHED,
                        "confidence": 1.0,
                    }
                    for x in links[start : start + 5000]
                ],
            )

        findings = rows(data, "findings")
        codes = sorted({(x["question_code"], x["cluster"]) for x in findings})
        await s.execute(
            insert(Question),
            [
                {
                    "code": code,
                    "cluster": Cluster(CLUSTER_OF[cluster]),
                    "area": "benchmark",
                    "text": f"Benchmark question {code}",
                    "country": None,
                    "position": 100_000 + i,
                }
                for i, (code, cluster) in enumerate(codes)
            ],
        )
        assessments = rows(data, "assessments")
        aid = {a["id"]: uuid.uuid4() for a in assessments}
        ids["assessments"] = {str(v): str(k) for k, v in aid.items()}
        await s.execute(
            insert(Assessment),
            [
                {
                    "id": aid[a["id"]],
                    "factory_id": fid[a["factory_id"]],
                    "cycle": a["cycle"],
                    "version": 1,
                    "status": AssessmentStatus.PUBLISHED,
                    "assessed_at": date.fromisoformat(a["assessed_at"]),
                    "published_at": datetime.fromisoformat(a["assessed_at"] + "T12:00:00+00:00"),
                    "content_hash": hashlib.sha256(str(a["id"]).encode()).hexdigest(),
                    "assessor_org_id": assessor,
                }
                for a in assessments
            ],
        )
        raw = await s.connection()
        driver = (await raw.get_raw_connection()).driver_connection
        assert driver is not None
        await driver.copy_records_to_table(
            "assessment_answers",
            records=(
                (aid[x["assessment_id"]], x["question_code"], not x["noncompliant"], None)
                for x in findings
            ),
            columns=["assessment_id", "question_code", "compliant", "comment"],
        )
        await AssessmentRepository(s).store_summaries(list(aid.values()))

        consents = rows(data, "consents")
        events: list[NewEvent] = []
        current: list[dict[str, Any]] = []
        for c in consents:
            consent_id = uuid.uuid4()
            factory, buyer = fid[c["factory_id"]], bid[c["buyer_id"]]
            owner = uuid.UUID(ids["factory_orgs"][str(c["factory_id"])])
            scopes = tuple(sorted(c["scopes"]))
            events.append(
                NewEvent(
                    EventType.GRANTED,
                    consent_id,
                    factory,
                    buyer,
                    owner,
                    scopes,
                    when(c["expires_at"]),
                )
            )
            revoked = when(c["revoked_at"])
            if revoked:
                events.append(NewEvent(EventType.REVOKED, consent_id, factory, buyer, owner))
            current.append(
                {
                    "id": consent_id,
                    "factory_id": factory,
                    "buyer_org_id": buyer,
                    "status": ConsentStatus.REVOKED if revoked else ConsentStatus.GRANTED,
                    "scopes": list(scopes),
                    "granted_at": when(c["granted_at"]),
                    "expires_at": when(c["expires_at"]),
                    "revoked_at": revoked,
                }
            )
        entries = await LedgerRepository(s).append_batch(events)
        last_seq: dict[uuid.UUID, int] = {}
        for entry in entries:
            assert entry.consent_id is not None
            last_seq[entry.consent_id] = entry.seq
        for row in current:
            row["ledger_seq"] = last_seq[row["id"]]
        for start in range(0, len(current), 5000):
            await s.execute(insert(Consent), current[start : start + 5000])
        await s.execute(text("UPDATE data_revision SET revision = revision + 1"))
    # fresh statistics, as the harness gives the other contenders' tables: plans depend on them
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("VACUUM ANALYZE"))
    await engine.dispose()

    keys = signing_keys.load_or_create(settings.signing_key_file)
    generator = HubTokenGenerator(settings, keys, lifetime=TOKEN_HOURS * 3600)

    def mint(org_id: str, role: Role) -> str:
        record = ClientRecord(f"bench-{org_id}", "", uuid.UUID(org_id), role, False)
        token: str = generator(
            grant_type="client_credentials", client=record, include_refresh_token=False
        )["access_token"]
        return token

    tokens = {
        "buyers": {k: mint(v, Role.BUYER) for k, v in ids["buyers"].items()},
        "factories": {k: mint(v, Role.FACTORY) for k, v in ids["factory_orgs"].items()},
    }
    state.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 (a loader: nothing else runs)
    (state / "ids.json").write_text(json.dumps(ids))
    (state / "tokens.json").write_text(json.dumps(tokens))
    print(
        f"loaded {len(buyers)} buyers, {len(factories)} factories, {len(links)} links, "
        f"{len(assessments)} assessments, {len(findings)} findings, {len(events)} ledger events",
        file=sys.stderr,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, type=Path)
    parser.add_argument("--state", required=True, type=Path)
    args = parser.parse_args()
    settings = Settings.from_env()
    if not settings.database_url:
        raise SystemExit("DATABASE_URL must name the contender's database")
    asyncio.run(load(args.data, args.state, settings))


if __name__ == "__main__":
    main()
