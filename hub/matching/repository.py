"""All SQL of supplier links."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, or_, select, text, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from hub.consent.models import Consent, ConsentStatus
from hub.consent.repository import status_is
from hub.db.filters import any_of
from hub.db.paging import Page, keyset_page
from hub.directory.models import Factory
from hub.matching.models import (
    Decision,
    MatchDecision,
    MatchOutcome,
    PendingMatch,
    SupplierLink,
)

CANDIDATE_SIMILARITY = 0.45


class SupplierRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def buyers_of(self, factory_ids: Sequence[uuid.UUID]) -> list[uuid.UUID]:
        """Buyers whose supplier list holds any of these factories."""
        query = (
            select(SupplierLink.buyer_org_id)
            .where(any_of(SupplierLink.factory_id, factory_ids))
            .distinct()
        )
        return list((await self.session.execute(query)).scalars())

    async def ensure_link(self, buyer_id: uuid.UUID, factory: Factory) -> None:
        """A buyer that asks a factory for access (or is granted it) has it as a supplier."""
        exists = await self.session.execute(
            select(SupplierLink.id).where(
                SupplierLink.buyer_org_id == buyer_id, SupplierLink.factory_id == factory.id
            )
        )
        if exists.first() is not None:
            return
        await self.session.execute(
            insert(SupplierLink)
            .values(
                id=uuid.uuid4(),
                buyer_org_id=buyer_id,
                factory_id=factory.id,
                buyer_ref=factory.hub_id,
                outcome=MatchOutcome.MATCHED.name,
                confidence=1.0,
            )
            .on_conflict_do_nothing()
        )

    async def page(
        self,
        buyer_id: uuid.UUID,
        *,
        country: str | None,
        consent_status: ConsentStatus | None,
        first: int,
        after: str | None,
    ) -> Page[tuple[SupplierLink, Factory]]:
        query = (
            select(SupplierLink, Factory)
            .join(Factory, Factory.id == SupplierLink.factory_id)
            .where(SupplierLink.buyer_org_id == buyer_id)
        )
        if country:
            query = query.where(Factory.country == country)
        if consent_status is not None:
            query = query.join(
                Consent,
                (Consent.factory_id == SupplierLink.factory_id)
                & (Consent.buyer_org_id == buyer_id),
            ).where(status_is(consent_status))
        # factory_seq is Factory.seq, kept on the link so the order comes from the link's index
        query = query.order_by(SupplierLink.factory_seq, SupplierLink.id)
        return await keyset_page(self.session, query, first, after, whole_row=True)

    # --- matching -----------------------------------------------------------------------------

    async def links_of(self, buyer_id: uuid.UUID) -> dict[str, SupplierLink]:
        query = select(SupplierLink).where(SupplierLink.buyer_org_id == buyer_id)
        return {link.buyer_ref: link for link in (await self.session.execute(query)).scalars()}

    async def decisions_of(self, buyer_id: uuid.UUID) -> list[MatchDecision]:
        query = select(MatchDecision).where(MatchDecision.buyer_org_id == buyer_id)
        return list((await self.session.execute(query)).scalars())

    async def remember(
        self, buyer_id: uuid.UUID, buyer_ref: str, factory_id: uuid.UUID, decision: Decision
    ) -> None:
        stmt = insert(MatchDecision).values(
            buyer_org_id=buyer_id,
            buyer_ref=buyer_ref,
            factory_id=factory_id,
            decision=decision.name,
        )
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["buyer_org_id", "buyer_ref", "factory_id"],
                set_={"decision": stmt.excluded.decision},
            )
        )

    async def candidates(
        self, queries: Sequence[tuple[str, str]], per_record: int = 5
    ) -> list[list[uuid.UUID]]:
        """For each (country, normalised name): the most similar factories of that country, by
        trigram similarity through the GIN index (`%` filters, `<->` ranks)."""
        if not queries:
            return []
        # pg_trgm's default cut (0.3) lets thousands of rows through on a big directory; the
        # scores that can reach the grey zone are far above this (measured in bench/)
        await self.session.execute(
            text(f"SET LOCAL pg_trgm.similarity_threshold = {CANDIDATE_SIMILARITY}")
        )
        rows = await self.session.execute(
            text(
                """
                SELECT r.i, f.id
                FROM unnest(CAST(:names AS text[]), CAST(:countries AS text[]))
                     WITH ORDINALITY AS r(q, c, i)
                CROSS JOIN LATERAL (
                    SELECT id FROM factories
                    WHERE country = r.c AND merged_into_id IS NULL AND norm_name % r.q
                    ORDER BY norm_name <-> r.q
                    LIMIT :k
                ) f
                """
            ),
            {
                "names": [q for _, q in queries],
                "countries": [c for c, _ in queries],
                "k": per_record,
            },
        )
        found: list[list[uuid.UUID]] = [[] for _ in queries]
        for i, factory_id in rows:
            found[int(i) - 1].append(factory_id)
        return found

    async def same_names(
        self, queries: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], list[uuid.UUID]]:
        """Factories whose normalised name is exactly the record's, by (country, name)."""
        if not queries:
            return {}
        rows = await self.session.execute(
            select(Factory.country, Factory.norm_name, Factory.id).where(
                tuple_(Factory.country, Factory.norm_name).in_(list(set(queries))),
                Factory.merged_into_id.is_(None),
            )
        )
        found: dict[tuple[str, str], list[uuid.UUID]] = {}
        for country, name, factory_id in rows:
            found.setdefault((country, name), []).append(factory_id)
        return found

    async def by_identifiers(
        self, os_ids: Sequence[str], registrations: Sequence[tuple[str, str]]
    ) -> list[Factory]:
        conditions = []
        if os_ids:
            conditions.append(Factory.os_id.in_(os_ids))
        if registrations:
            conditions.append(
                tuple_(Factory.country, Factory.registration_number).in_(list(registrations))
            )
        if not conditions:
            return []
        query = select(Factory).where(or_(*conditions), Factory.merged_into_id.is_(None))
        return list((await self.session.execute(query)).scalars())

    async def upsert_links(
        self, rows: Sequence[tuple[uuid.UUID, str, uuid.UUID, MatchOutcome, float, str]]
    ) -> None:
        """Many links in one statement (a later row for the same reference wins), and their
        references taken off the review list."""
        latest = {(b, ref): row for row in rows for b, ref in [row[:2]]}
        values = [
            {
                "id": uuid.uuid4(),
                "buyer_org_id": buyer,
                "buyer_ref": ref,
                "factory_id": factory,
                "outcome": outcome.name,
                "confidence": confidence,
                "record_hash": record_hash,
            }
            for buyer, ref, factory, outcome, confidence, record_hash in latest.values()
        ]
        stmt = insert(SupplierLink).values(values)
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["buyer_org_id", "buyer_ref"],
                set_={
                    "factory_id": stmt.excluded.factory_id,
                    "outcome": stmt.excluded.outcome,
                    "confidence": stmt.excluded.confidence,
                    "record_hash": stmt.excluded.record_hash,
                    "updated_at": func.now(),
                },
            )
        )
        for buyer in {b for b, _ in latest}:
            refs = [ref for b, ref in latest if b == buyer]
            await self.session.execute(
                delete(PendingMatch).where(
                    PendingMatch.buyer_org_id == buyer, PendingMatch.buyer_ref.in_(refs)
                )
            )

    async def drop_link(self, buyer_id: uuid.UUID, buyer_ref: str) -> None:
        await self.session.execute(
            delete(SupplierLink).where(
                SupplierLink.buyer_org_id == buyer_id, SupplierLink.buyer_ref == buyer_ref
            )
        )

    async def pending(self, buyer_id: uuid.UUID, buyer_ref: str) -> PendingMatch | None:
        return await self.session.get(PendingMatch, (buyer_id, buyer_ref))

    async def set_pending(
        self,
        buyer_id: uuid.UUID,
        buyer_ref: str,
        record: dict[str, Any],
        candidates: list[dict[str, Any]],
    ) -> None:
        stmt = insert(PendingMatch).values(
            buyer_org_id=buyer_id, buyer_ref=buyer_ref, record=record, candidates=candidates
        )
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["buyer_org_id", "buyer_ref"],
                set_={"record": stmt.excluded.record, "candidates": stmt.excluded.candidates},
            )
        )

    async def move_factory(self, merged_id: uuid.UUID, survivor_id: uuid.UUID) -> None:
        """Everything that points at the merged record points at the survivor instead."""
        params = {"old": merged_id, "new": survivor_id}
        for statement in (
            "UPDATE supplier_links SET factory_id = :new WHERE factory_id = :old",
            "UPDATE assessments SET factory_id = :new WHERE factory_id = :old",
            "UPDATE assessment_requests SET factory_id = :new WHERE factory_id = :old",
            # a decision the buyer already made about the survivor stands
            "DELETE FROM match_decisions d WHERE d.factory_id = :old AND EXISTS ("
            " SELECT 1 FROM match_decisions s WHERE s.factory_id = :new"
            " AND s.buyer_org_id = d.buyer_org_id AND s.buyer_ref = d.buyer_ref)",
            "UPDATE match_decisions SET factory_id = :new WHERE factory_id = :old",
        ):
            await self.session.execute(text(statement), params)
