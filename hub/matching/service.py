"""Supplier lists to factories: validate, match, link, and remember what the buyer decided.

For each record: a decision the buyer confirmed earlier wins; then an exact identifier (OS ID,
or national registration number within the country) unless the name contradicts it; then
candidates of the same country by trigram similarity on the normalised name, scored with
rapidfuzz on name and address (hub.matching.score). At or above the high threshold the record
links (MATCHED); in the grey zone it waits for the buyer with ranked candidates
(NEEDS_REVIEW); below, a new factory profile is made (CREATED), unless a record earlier in the
same upload already made it. Re-uploading is idempotent: links are keyed by the buyer's own
reference, an unchanged record is not matched again, and references that disappeared are
reported, not dropped.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from hub.config import Settings
from hub.directory.models import Factory
from hub.directory.repository import DirectoryRepository
from hub.directory.service import DirectoryService, NewFactory
from hub.errors import BadUserInput, NotFound
from hub.matching.models import Decision, MatchOutcome, SupplierLink
from hub.matching.records import MAX_RECORDS, SupplierRecord, clean_record, record_json
from hub.matching.repository import SupplierRepository
from hub.matching.score import Score, Side, score

# when the two best candidates are this close and both above the high threshold, ask
AMBIGUITY_MARGIN = 0.05


def factory_side(f: Factory) -> Side:
    return Side(f.norm_name, f.norm_address, f.country, f.os_id, f.registration_number)


@dataclass
class RecordResult:
    buyer_ref: str
    outcome: MatchOutcome
    factory: Factory | None
    confidence: float
    score: Score | None
    candidates: list[tuple[Factory, Score]] = field(default_factory=list)
    note: str | None = None


@dataclass
class UploadResult:
    records: list[RecordResult]
    disappeared: list[str]

    def count(self, outcome: MatchOutcome) -> int:
        return sum(1 for r in self.records if r.outcome is outcome)


class MatchingService:
    def __init__(self, session: AsyncSession, settings: Settings) -> None:
        self.repo = SupplierRepository(session)
        self.directory = DirectoryRepository(session)
        self.factories = DirectoryService(session)
        self.high = settings.match_high
        self.low = settings.match_low
        self._pending_links: list[tuple[uuid.UUID, str, uuid.UUID, MatchOutcome, float, str]] = []

    async def upload(
        self, buyer_id: uuid.UUID, raw: Sequence[SupplierRecord], *, complete: bool = True
    ) -> UploadResult:
        """Match and link one batch. With `complete`, the batch is the buyer's whole list and
        references missing from it are reported as disappeared."""
        if len(raw) > MAX_RECORDS:
            raise BadUserInput(f"at most {MAX_RECORDS} records per call, got {len(raw)}")
        records = [clean_record(r, f"record {i + 1}") for i, r in enumerate(raw)]
        seen: dict[str, int] = {}
        for i, r in enumerate(records):
            if r.buyer_ref in seen:
                first = seen[r.buyer_ref] + 1
                raise BadUserInput(
                    f"record {i + 1}: buyerRef {r.buyer_ref!r} repeats record {first}"
                )
            seen[r.buyer_ref] = i
        links = await self.repo.links_of(buyer_id)
        decisions = await self.repo.decisions_of(buyer_id)
        confirmed = {
            (d.buyer_ref): d.factory_id for d in decisions if d.decision is Decision.CONFIRMED
        }
        rejected = {
            (d.buyer_ref, d.factory_id) for d in decisions if d.decision is Decision.REJECTED
        }

        results: list[RecordResult | None] = [None] * len(records)
        todo: list[int] = []
        unchanged: dict[int, SupplierLink] = {}
        for i, r in enumerate(records):
            link = links.get(r.buyer_ref)
            if link is not None and link.record_hash == r.fingerprint():
                unchanged[i] = link
            else:
                todo.append(i)
        linked = {
            f.id: f
            for f in await self.directory.factories_by_ids(
                [k.factory_id for k in unchanged.values()]
            )
        }
        for i, link in unchanged.items():
            results[i] = RecordResult(
                link.buyer_ref,
                link.outcome,
                linked.get(link.factory_id),
                link.confidence,
                None,
                note="unchanged",
            )

        pool = await self.candidate_pool([records[i] for i in todo], set(confirmed.values()))
        made_here: list[Factory] = []
        for k, i in enumerate(todo):
            r = records[i]
            results[i] = await self._match(buyer_id, r, pool[k], confirmed, rejected, made_here)
        await self._write_links()
        disappeared = sorted(set(links) - set(seen)) if complete else []
        return UploadResult([r for r in results if r is not None], disappeared)

    async def candidate_pool(
        self, records: list[SupplierRecord], extra: set[uuid.UUID]
    ) -> list[list[Factory]]:
        """Candidates for each record, in a few statements for the whole batch."""
        by_ids = await self.repo.by_identifiers(
            sorted({r.os_id for r in records if r.os_id}),
            sorted({(r.country, r.registration_number) for r in records if r.registration_number}),
        )
        # Most records carry a directory name exactly (once normalised): those rows are their
        # candidates. Only the rest pay for a trigram search.
        keys = [(r.country, r.side().name) for r in records]
        exact = await self.repo.same_names(keys)
        similar: list[list[uuid.UUID]] = [exact.get(key, []) for key in keys]
        fuzzy = [i for i, ids in enumerate(similar) if not ids]
        for start in range(0, len(fuzzy), 500):
            chunk = fuzzy[start : start + 500]
            found = await self.repo.candidates([keys[i] for i in chunk])
            for i, ids in zip(chunk, found, strict=True):
                similar[i] = ids
        wanted = {fid for ids in similar for fid in ids} | extra
        known = {f.id: f for f in await self.directory.factories_by_ids(list(wanted))}
        pool: list[list[Factory]] = []
        for r, ids in zip(records, similar, strict=True):
            mine = [known[fid] for fid in ids if fid in known]
            mine += [
                f
                for f in by_ids
                if f not in mine
                and (
                    (r.os_id and f.os_id == r.os_id)
                    or (
                        r.registration_number
                        and (f.country, f.registration_number) == (r.country, r.registration_number)
                    )
                )
            ]
            pool.append(mine)
        return pool

    async def _match(
        self,
        buyer_id: uuid.UUID,
        r: SupplierRecord,
        candidates: list[Factory],
        confirmed: dict[str, uuid.UUID],
        rejected: set[tuple[str, uuid.UUID]],
        made_here: list[Factory],
    ) -> RecordResult:
        side = r.side()
        if r.buyer_ref in confirmed:
            factory = await self.directory.factory(confirmed[r.buyer_ref])
            if factory is not None:
                await self._link(buyer_id, r, factory, MatchOutcome.MATCHED, 1.0)
                return RecordResult(
                    r.buyer_ref,
                    MatchOutcome.MATCHED,
                    factory,
                    1.0,
                    None,
                    note="you confirmed this match",
                )
        ranked = sorted(
            (
                (f, score(side, factory_side(f)))
                for f in candidates
                if (r.buyer_ref, f.id) not in rejected
            ),
            key=lambda pair: -pair[1].total,
        )
        best = ranked[0] if ranked else None
        runner_up = ranked[1][1].total if len(ranked) > 1 else 0.0
        # two directory records fit about equally well: a person must say which one
        ambiguous = (
            best is not None
            and not best[1].identifier
            and runner_up >= self.high
            and best[1].total - runner_up < AMBIGUITY_MARGIN
        )
        if (
            best is not None
            and not ambiguous
            and (best[1].identifier or best[1].total >= self.high)
        ):
            await self._link(buyer_id, r, best[0], MatchOutcome.MATCHED, best[1].total)
            return RecordResult(
                r.buyer_ref, MatchOutcome.MATCHED, best[0], best[1].total, best[1], ranked[:3]
            )
        if best is not None and best[1].total >= self.low:
            grey = [(f, s) for f, s in ranked if s.total >= self.low][:5]
            await self.repo.drop_link(buyer_id, r.buyer_ref)
            await self.repo.set_pending(
                buyer_id,
                r.buyer_ref,
                record_json(r),
                [{"factoryId": str(f.id), "score": s.total} for f, s in grey],
            )
            return RecordResult(
                r.buyer_ref, MatchOutcome.NEEDS_REVIEW, None, best[1].total, best[1], grey
            )
        # below the grey zone: the same new factory may already have come earlier in this list
        for f in made_here:
            s = score(side, factory_side(f))
            if s.identifier or s.total >= self.high:
                await self._link(buyer_id, r, f, MatchOutcome.MATCHED, s.total)
                return RecordResult(
                    r.buyer_ref,
                    MatchOutcome.MATCHED,
                    f,
                    s.total,
                    s,
                    note="made earlier in this upload",
                )
        factory = await self.create_factory(r)
        made_here.append(factory)
        await self._link(buyer_id, r, factory, MatchOutcome.CREATED, best[1].total if best else 0.0)
        return RecordResult(
            r.buyer_ref,
            MatchOutcome.CREATED,
            factory,
            best[1].total if best else 0.0,
            best[1] if best else None,
            ranked[:3],
        )

    async def create_factory(self, r: SupplierRecord) -> Factory:
        # an identifier another factory already holds is this record's error, not a fact
        os_id = r.os_id
        if os_id and await self.repo.by_identifiers([os_id], []):
            os_id = None
        reg = r.registration_number
        if reg and await self.repo.by_identifiers([], [(r.country, reg)]):
            reg = None
        return await self.factories.create_factory(
            NewFactory(
                name=r.name,
                country=r.country,
                address=r.address,
                os_id=os_id,
                registration_number=reg,
            )
        )

    async def _link(
        self,
        buyer_id: uuid.UUID,
        r: SupplierRecord,
        factory: Factory,
        outcome: MatchOutcome,
        confidence: float,
    ) -> None:
        # written in batches by _write_links: a statement per record would dominate big lists
        self._pending_links.append(
            (buyer_id, r.buyer_ref, factory.id, outcome, confidence, r.fingerprint())
        )
        if len(self._pending_links) >= 1000:
            await self._write_links()

    async def _write_links(self) -> None:
        rows, self._pending_links = self._pending_links, []
        if rows:
            await self.repo.upsert_links(rows)

    async def resolve(
        self, buyer_id: uuid.UUID, buyer_ref: str, factory_id: uuid.UUID | None, create_new: bool
    ) -> RecordResult:
        """The buyer's decision on a record: this factory, or a new one. Remembered."""
        if (factory_id is None) == (not create_new):
            raise BadUserInput("give either factoryId or createNew: true")
        pending = await self.repo.pending(buyer_id, buyer_ref)
        links = await self.repo.links_of(buyer_id)
        link = links.get(buyer_ref)
        if pending is None and link is None:
            raise NotFound(f"no record {buyer_ref!r} in your supplier list", argument="buyerRef")
        offered = [uuid.UUID(c["factoryId"]) for c in pending.candidates] if pending else []
        if link is not None:
            offered.append(link.factory_id)
        record = (
            SupplierRecord(**pending.record) if pending else await self._record_of(link)  # type: ignore[arg-type]
        )
        if factory_id is not None:
            factory = await self.directory.factory(factory_id)
            if factory is None or factory.merged_into_id is not None:
                raise NotFound(f"no factory {factory_id}", argument="factoryId")
            await self.repo.remember(buyer_id, buyer_ref, factory.id, Decision.CONFIRMED)
            for other in offered:
                if other != factory.id:
                    await self.repo.remember(buyer_id, buyer_ref, other, Decision.REJECTED)
            await self._link(buyer_id, record, factory, MatchOutcome.MATCHED, 1.0)
            await self._write_links()
            return RecordResult(
                buyer_ref, MatchOutcome.MATCHED, factory, 1.0, None, note="you confirmed this match"
            )
        for other in offered:
            await self.repo.remember(buyer_id, buyer_ref, other, Decision.REJECTED)
        factory = await self.create_factory(record)
        await self._link(buyer_id, record, factory, MatchOutcome.CREATED, 0.0)
        await self._write_links()
        return RecordResult(
            buyer_ref, MatchOutcome.CREATED, factory, 0.0, None, note="a new factory, as you asked"
        )

    async def _record_of(self, link: SupplierLink) -> SupplierRecord:
        factory = await self.directory.factory(link.factory_id)
        assert factory is not None
        return SupplierRecord(link.buyer_ref, factory.name, factory.country, factory.address)
