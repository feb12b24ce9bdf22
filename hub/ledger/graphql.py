"""GraphQL types and thin resolvers of the consent ledger: the log, checkpoints, proofs and
receipts. Hashes are lower-case hex; `note` is the whole signed checkpoint."""

from __future__ import annotations

from datetime import datetime

import strawberry

from hub.errors import BadUserInput, Forbidden
from hub.graphql.context import Info
from hub.graphql.ids import parse_id
from hub.ledger import models
from hub.ledger.events import EventType
from hub.ledger.reader import LedgerReader
from hub.ledger.service import LedgerService
from hub.ledger.signing import LedgerKey

strawberry.enum(EventType, name="ConsentEventType")


@strawberry.type
class ConsentEvent:
    seq: int
    at: datetime
    type: EventType
    consent_id: strawberry.ID
    factory_id: strawberry.ID
    buyer_id: strawberry.ID
    scopes: list[str]
    expires_at: datetime | None
    actor_id: strawberry.ID
    reason: str | None
    leaf_hash: str

    @classmethod
    def from_row(cls, e: models.ConsentLogEntry, reason: str | None) -> ConsentEvent:
        return cls(
            seq=e.seq,
            at=e.at,
            type=EventType(e.event_type),
            consent_id=strawberry.ID(str(e.consent_id)),
            factory_id=strawberry.ID(str(e.factory_id)),
            buyer_id=strawberry.ID(str(e.buyer_org_id)),
            scopes=list(e.scopes),
            expires_at=e.expires_at,
            actor_id=strawberry.ID(str(e.actor_id)),
            reason=reason,
            leaf_hash=e.leaf_hash.hex(),
        )


@strawberry.type
class ConsentEventPage:
    events: list[ConsentEvent]
    next_after: int | None
    tree_size: int


@strawberry.type
class Checkpoint:
    tree_size: int
    root_hash: str
    issued_at: datetime
    key_id: str
    signature: str
    note: str

    @classmethod
    def from_model(cls, c: models.Checkpoint) -> Checkpoint:
        return cls(
            tree_size=c.tree_size,
            root_hash=c.root_hash.hex(),
            issued_at=c.issued_at,
            key_id=c.key_id,
            signature=c.signature.hex(),
            note=c.note,
        )


@strawberry.type
class InclusionProof:
    seq: int
    tree_size: int
    leaf_hash: str
    path: list[str]


@strawberry.type
class ConsistencyProof:
    from_size: int
    to_size: int
    path: list[str]


@strawberry.type
class LedgerQuery:
    @strawberry.field(description="AUDITOR, ADMIN: the consent events, in ledger order.")
    async def consent_log(
        self,
        info: Info,
        after: int | None = 0,
        first: int | None = 100,
        factory_id: strawberry.ID | None = None,
        buyer_id: strawberry.ID | None = None,
    ) -> ConsentEventPage:
        ctx = info.context
        async with ctx.db.session() as session:
            rows, next_after, size = await LedgerReader(session, ctx.authz).page(
                after or 0,
                100 if first is None else first,
                parse_id(factory_id, "factoryId") if factory_id else None,
                parse_id(buyer_id, "buyerId") if buyer_id else None,
                ctx.settings.page_max,
            )
        return ConsentEventPage(
            events=[ConsentEvent.from_row(e, r) for e, r in rows],
            next_after=next_after,
            tree_size=size,
        )

    @strawberry.field(description="The latest signed checkpoint.")
    async def checkpoint(self, info: Info) -> Checkpoint:
        async with info.context.db.session() as session:
            return Checkpoint.from_model(await LedgerService(session).latest())

    @strawberry.field(
        description="The latest signed checkpoints, newest first (an auditor checks each "
        "against the one before with consistencyProof)."
    )
    async def checkpoints(self, info: Info, last: int = 10) -> list[Checkpoint]:
        if not 1 <= last <= info.context.settings.page_max:
            raise BadUserInput(f"last must be between 1 and {info.context.settings.page_max}")
        async with info.context.db.session() as session:
            found = await LedgerService(session).recent(last)
        return [Checkpoint.from_model(c) for c in found]

    @strawberry.field(description="Proof that event `seq` is in the tree of `treeSize` events.")
    async def inclusion_proof(self, info: Info, seq: int, tree_size: int) -> InclusionProof:
        ctx = info.context
        async with ctx.db.session() as session:
            entry, proof = await LedgerReader(session, ctx.authz).inclusion_proof(seq, tree_size)
        return InclusionProof(
            seq=seq,
            tree_size=proof.size,
            leaf_hash=entry.leaf_hash.hex(),
            path=[p.hex() for p in proof.path],
        )

    @strawberry.field(description="Proof that the tree of `toSize` extends that of `fromSize`.")
    async def consistency_proof(self, info: Info, from_size: int, to_size: int) -> ConsistencyProof:
        async with info.context.db.session() as session:
            proof = await LedgerService(session).consistency_proof(from_size, to_size)
        return ConsistencyProof(
            from_size=from_size, to_size=to_size, path=[p.hex() for p in proof.path]
        )

    @strawberry.field(
        description="The event, its inclusion proof and a checkpoint, as one text that "
        "`hub ledger verify-receipt` checks offline."
    )
    async def consent_receipt(self, info: Info, seq: int) -> str:
        ctx = info.context
        async with ctx.db.session() as session:
            return await LedgerReader(session, ctx.authz).receipt(seq)


@strawberry.type
class LedgerMutation:
    @strawberry.mutation(description="ADMIN: sign a checkpoint now (if the log grew).")
    async def publish_checkpoint(self, info: Info) -> Checkpoint:
        ctx = info.context
        if ctx.principal.role.value != "ADMIN":
            raise Forbidden("only admins publish checkpoints on demand")
        key = LedgerKey.load_or_create(ctx.settings.ledger_key_file, ctx.settings.ledger_origin)
        async with ctx.db.session() as session:
            service = LedgerService(session)
            await service.digest_disclosures()
            made = await service.checkpoint(key, ctx.settings.ledger_origin)
            latest = made or await service.latest()
        return Checkpoint.from_model(latest)
