"""What must hold after any fault: every acknowledged write is there, nothing is half-written,
and the consent ledger still verifies as an auditor checks it."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field

import asyncpg

from hub.config import Settings
from tests.helpers import run_hub


@dataclass
class Acknowledged:
    """What the hub answered as done (and what it was asked to do)."""

    ledger: list[tuple[int, str, str]] = field(default_factory=list)  # (seq, consent, event)
    uploads: dict[str, int] = field(default_factory=dict)  # buyerRef prefix -> records
    attempted_uploads: dict[str, int] = field(default_factory=dict)
    outcomes: Counter[str] = field(default_factory=Counter)


async def check_nothing_lost_or_half_written(settings: Settings, acked: Acknowledged) -> None:
    conn = await asyncpg.connect(settings.libpq_url)
    try:
        log = {
            r["seq"]: (str(r["consent_id"]), r["event_type"])
            for r in await conn.fetch("SELECT seq, consent_id, event_type FROM consent_log")
        }
        for seq, consent, event in acked.ledger:
            assert log.get(seq) == (consent, event), f"acknowledged event {seq} lost"
        assert sorted(log) == list(range(len(log))), "the ledger has a gap"
        # every consent's state is what its last ledger event says
        drift = await conn.fetch(
            """
            SELECT c.id, c.status::text AS status, l.event_type
            FROM consents c
            JOIN LATERAL (SELECT event_type FROM consent_log WHERE consent_id = c.id
                          ORDER BY seq DESC LIMIT 1) l ON true
            WHERE c.status::text <> l.event_type
            """
        )
        assert not drift, f"consent rows disagree with the ledger: {drift[:3]}"
        orphans = await conn.fetchval(
            "SELECT count(*) FROM consents c WHERE NOT EXISTS "
            "(SELECT 1 FROM consent_log l WHERE l.consent_id = c.id)"
        )
        assert orphans == 0, "a consent without its ledger event"
        for prefix, records in acked.attempted_uploads.items():
            stored = await conn.fetchval(
                "SELECT count(*) FROM supplier_links WHERE buyer_ref LIKE $1", f"{prefix}-%"
            )
            if prefix in acked.uploads:
                assert stored == records, f"acknowledged upload {prefix}: {stored}/{records}"
            else:
                assert stored in (0, records), f"upload {prefix} half-written: {stored}/{records}"
    finally:
        await conn.close()


def ledger_verifies(settings: Settings, workdir: os.PathLike[str] | str) -> str:
    """Sign a checkpoint, export the ledger and verify the export, with the CLI an auditor
    uses; returns what `hub ledger verify` printed."""

    def hub(*args: str) -> str:
        done = run_hub(settings, *args)
        assert done.returncode == 0, f"hub {' '.join(args)}: {done.stdout}{done.stderr}"
        return done.stdout

    export = f"{workdir}/ledger.jsonl"
    hub("ledger", "checkpoint")
    hub("ledger", "export", "--out", export)
    key = hub("ledger", "public-key").strip()
    return hub("ledger", "verify", export, "--public-key", key)
