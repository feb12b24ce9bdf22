"""Ledger use cases: the Merkle tree over the log, proofs, signed checkpoints, receipts, and
disclosure digests. Appends themselves happen in the consent service (one transaction each)."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from hub.disclosures.repository import DigestedRows, DisclosureRepository
from hub.errors import BadUserInput, Conflict, NotFound
from hub.ledger import digests, merkle
from hub.ledger.events import LEAF_TYPE_LINE, NewDigest
from hub.ledger.models import Checkpoint, ConsentLogEntry
from hub.ledger.note import Checkpoint as NoteCheckpoint
from hub.ledger.note import sign
from hub.ledger.repository import LedgerRepository
from hub.ledger.signing import LedgerKey

RECEIPT_HEADER = "compliance-hub consent receipt v1"
MAX_DIGEST_ROWS = 50_000
DIGEST_CHUNK = 5_000


@dataclass(frozen=True)
class Proof:
    size: int
    path: list[bytes]


class LedgerService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.repo = LedgerRepository(session)

    # --- the tree -----------------------------------------------------------------------------

    async def extend_tree(self, size: int) -> None:
        """Store every perfect subtree hash complete at `size` (only the new ones are hashed)."""
        below: tuple[int, list[bytes]] | None = None  # (first index, hashes) made one level down
        level = 1
        while size >> level:
            have, want = await self.repo.tree_width(level), size >> level
            if have < want:
                children = await self._children(level - 1, 2 * have, 2 * want, below)
                made = [
                    merkle.node_hash(children[i], children[i + 1])
                    for i in range(0, len(children), 2)
                ]
                await self.repo.add_tree_nodes(level, have, made)
                below = (have, made)
            else:
                below = None
            level += 1

    async def _children(
        self, level: int, lo: int, hi: int, fresh: tuple[int, list[bytes]] | None
    ) -> list[bytes]:
        start = fresh[0] if fresh else hi
        start = max(lo, min(start, hi))
        stored = (
            await (
                self.repo.leaf_hashes(lo, start)
                if level == 0
                else self.repo.tree_level(level, lo, start)
            )
            if lo < start
            else []
        )
        tail = fresh[1][start - fresh[0] : hi - fresh[0]] if fresh and start < hi else []
        children = [*stored, *tail]
        if len(children) != hi - lo:
            raise RuntimeError(f"tree level {level} is missing nodes in [{lo}, {hi})")
        return children

    async def _source(self, ranges: list[tuple[int, int]]) -> merkle.HashSource:
        found = await self.repo.tree_nodes(merkle.needed_nodes(ranges))

        def source(node: merkle.Node) -> bytes:
            try:
                return found[node]
            except KeyError:
                raise RuntimeError(f"tree node {node} is not stored yet") from None

        return source

    async def root(self, size: int) -> bytes:
        return merkle.root(size, await self._source([(0, size)]))

    async def _integrated(self, size: int) -> Checkpoint:
        latest = await self.repo.latest_checkpoint()
        if latest is None or size > latest.tree_size:
            covered = latest.tree_size if latest else 0
            raise BadUserInput(f"tree size {size} is beyond the latest checkpoint ({covered})")
        return latest

    async def inclusion_proof(self, seq: int, size: int) -> tuple[ConsentLogEntry, Proof]:
        if size < 1 or not 0 <= seq < size:
            raise BadUserInput(f"seq must be in [0, treeSize); got seq {seq}, treeSize {size}")
        await self._integrated(size)
        entry = await self.repo.at(seq)
        if entry is None:
            raise NotFound(f"no ledger entry {seq}")
        ranges = merkle.inclusion_ranges(seq, size)
        source = await self._source(ranges)
        return entry, Proof(size, [merkle.range_hash(lo, hi, source) for lo, hi in ranges])

    async def consistency_proof(self, old: int, new: int) -> Proof:
        if not 1 <= old <= new:
            raise BadUserInput(f"need 1 <= fromSize <= toSize; got {old} and {new}")
        await self._integrated(new)
        ranges = merkle.consistency_ranges(old, new)
        source = await self._source(ranges)
        return Proof(new, [merkle.range_hash(lo, hi, source) for lo, hi in ranges])

    # --- checkpoints --------------------------------------------------------------------------

    async def checkpoint(self, key: LedgerKey, origin: str) -> Checkpoint | None:
        """Sign the current size if the log grew since the last checkpoint. Only one process
        integrates at a time; the others return None at once."""
        if not await self.repo.try_integrator_lock():
            return None
        size = await self.repo.head() + 1
        latest = await self.repo.latest_checkpoint()
        if size == 0 or (latest is not None and latest.tree_size >= size):
            return latest
        await self.extend_tree(size)
        root_hash = await self.root(size)
        note, signature = sign(NoteCheckpoint(origin, size, root_hash), key.name, key.private)
        made = Checkpoint(
            tree_size=size,
            root_hash=root_hash,
            issued_at=datetime.now(UTC),
            key_id=key.verifier.id.hex(),
            signature=signature,
            note=note,
        )
        await self.repo.add_checkpoint(made)
        return made

    async def latest(self) -> Checkpoint:
        latest = await self.repo.latest_checkpoint()
        if latest is None:
            raise NotFound("no checkpoint has been signed yet")
        return latest

    async def recent(self, count: int) -> Sequence[Checkpoint]:
        return await self.repo.recent_checkpoints(count)

    # --- receipts -----------------------------------------------------------------------------

    async def receipt(self, seq: int) -> str:
        """The event, its inclusion proof and a checkpoint: one text that verifies offline."""
        entry = await self.repo.at(seq)
        if entry is None:
            raise NotFound(f"no ledger entry {seq}")
        checkpoint = await self.repo.latest_checkpoint()
        if checkpoint is None or checkpoint.tree_size <= seq:
            raise Conflict("the event is not under a checkpoint yet; ask again in a few seconds")
        _, proof = await self.inclusion_proof(seq, checkpoint.tree_size)
        lines = [
            RECEIPT_HEADER,
            f"seq {seq}",
            f"tree-size {checkpoint.tree_size}",
            f"leaf {base64.b64encode(entry.leaf).decode()}",
            *(f"proof {base64.b64encode(p).decode()}" for p in proof.path),
            "",
            checkpoint.note,
        ]
        return "\n".join(lines)

    # --- disclosure digests -------------------------------------------------------------------

    async def digest_disclosures(self, limit: int = MAX_DIGEST_ROWS) -> NewDigest | None:
        """Commit up to ``limit`` disclosure rows since the last digest into the ledger as one
        event.

        Every disclosing answer holds the digest lock shared until it commits. A barrier takes
        it exclusively for one statement, alone in its transaction, and returns the id up to
        which every row is final (hub.disclosures.repository.settled_up_to); the rows up to it
        are then read and hashed with no lock held. (Held to the end of the digest's
        transaction, the lock stalled every disclosing answer, in every worker, for as many
        round trips as the digest took on a busy event loop: the harness's p99.) One process
        digests at a time (the integrator's try-lock); an idle digest takes no lock at all."""
        if not await self.repo.try_integrator_lock():
            return None  # another process is digesting or signing; it does this too
        log = DisclosureRepository(self.session)
        start = await self._digested_up_to()
        if not await log.any_after(start):
            return None
        up_to = await log.settled_up_to()
        read = await log.digest_in_sql(start, up_to, limit) or await _read(log, start, up_to, limit)
        if read.count == 0:
            return None
        made = NewDigest(start, read.last_id, read.count, read.digest)
        await self.repo.append_batch([made])
        return made

    async def _digested_up_to(self) -> int:
        last_leaf = await self.repo.last_digest_leaf()
        if last_leaf is None:
            return 0
        return int(json.loads(last_leaf[len(LEAF_TYPE_LINE) :])["toId"])


async def _read(log: DisclosureRepository, start: int, up_to: int, limit: int) -> DigestedRows:
    """Up to ``limit`` rows after ``start`` up to ``up_to``, read and hashed here a chunk per
    statement (the event loop serves requests between chunks): the rare digest whose rows
    PostgreSQL cannot encode as Python does."""
    count, last_id, digest = 0, start, digests.Digest()
    while count < limit:
        chunk = await log.records_after(last_id, up_to, min(DIGEST_CHUNK, limit - count))
        if not chunk:
            break
        digest.update(record for _, record in chunk)
        count += len(chunk)
        last_id = chunk[-1][0]
        if len(chunk) < DIGEST_CHUNK:
            break
    return DigestedRows(count, last_id, digest.hexdigest())
