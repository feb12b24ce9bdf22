"""`hub ledger export`: the whole ledger as JSON lines, for `hub ledger verify`.

    {"kind": "header", "format": "compliance-hub-ledger-export/v1", "origin": …, "exportedAt": …}
    {"kind": "checkpoint", "note": …}                        every signed checkpoint, by size
    {"kind": "event", "seq": n, "leaf": <base64>, "leafHash": <hex>}     the log, in order
    {"kind": "disclosure", "record": [id, at, requestId, buyer, factory, assessment, scope, seq]}

Nothing in the file is trusted by the verifier: hashes are recomputed from the leaves, and the
checkpoints are checked against a public key given separately.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import IO

from sqlalchemy.ext.asyncio import AsyncSession

from hub.disclosures.repository import DisclosureRepository
from hub.ledger.repository import LedgerRepository

FORMAT = "compliance-hub-ledger-export/v1"


async def export(
    session: AsyncSession, out: IO[str], origin: str, progress: Callable[[int], None] | None = None
) -> dict[str, int]:
    def line(obj: dict[str, object]) -> None:
        out.write(json.dumps(obj, separators=(",", ":")) + "\n")

    ledger = LedgerRepository(session)
    line(
        {
            "kind": "header",
            "format": FORMAT,
            "origin": origin,
            "exportedAt": datetime.now(UTC).isoformat(),
        }
    )
    checkpoints = await ledger.checkpoints()
    for c in checkpoints:
        line({"kind": "checkpoint", "note": c.note})
    events = 0
    async for rows in ledger.stream():
        for e in rows:
            line(
                {
                    "kind": "event",
                    "seq": e.seq,
                    "leaf": base64.b64encode(e.leaf).decode(),
                    "leafHash": e.leaf_hash.hex(),
                }
            )
        events += len(rows)
        if progress:
            progress(events)
    disclosures = 0
    async for batch in DisclosureRepository(session).stream():
        for r in batch:
            record = r.digest_record()
            line({"kind": "disclosure", "record": record})
        disclosures += len(batch)
    return {"events": events, "checkpoints": len(checkpoints), "disclosures": disclosures}
