"""Does the latest checkpoint verify against the one before it? Both signatures with the
ledger's public key, and the consistency proof between their trees (RFC 9162), checked here on
the server with the same code as `hub ledger verify`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from hub.console import queries
from hub.ledger import merkle
from hub.ledger.note import NoteError, Verifier, verify_checkpoint

Run = Callable[[str, dict[str, Any] | None], Awaitable[tuple[dict[str, Any] | None, str | None]]]


@dataclass(frozen=True)
class CheckpointCheck:
    latest: dict[str, Any] | None
    previous: dict[str, Any] | None
    verifies: bool
    detail: str


async def check_latest(run: Run, verifier: Verifier) -> CheckpointCheck:
    data, problem = await run(queries.CHECKPOINTS, None)
    found = (data or {}).get("checkpoints") or []
    if problem or not found:
        return CheckpointCheck(None, None, False, problem or "no checkpoint has been signed yet")
    latest = found[0]
    previous = found[1] if len(found) > 1 else None
    try:
        new = verify_checkpoint(latest["note"], verifier)
        if previous is None:
            return CheckpointCheck(latest, None, True, "signature valid (the first checkpoint)")
        old = verify_checkpoint(previous["note"], verifier)
    except NoteError as exc:
        return CheckpointCheck(latest, previous, False, f"signature: {exc}")
    proof, problem = await run(queries.CONSISTENCY, {"from": old.size, "to": new.size})
    if problem or not proof:
        return CheckpointCheck(latest, previous, False, problem or "no consistency proof")
    path = [bytes.fromhex(h) for h in proof["consistencyProof"]["path"]]
    if not merkle.verify_consistency(old.size, new.size, old.root, new.root, path):
        return CheckpointCheck(latest, previous, False, "the consistency proof does not verify")
    return CheckpointCheck(latest, previous, True, "signatures valid, consistency proof verified")
