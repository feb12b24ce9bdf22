"""Looking up and registering trusted documents. Found documents are kept in the process for
good (a document id is its content's hash, so a kept one can never be stale); ids not found are
asked again next time, since a document may be registered meanwhile."""

from __future__ import annotations

import hashlib
import re

from cachetools import LRUCache
from graphql import GraphQLError, parse
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from hub.documents.models import TrustedDocument
from hub.errors import BadUserInput

_ID = re.compile(r"(?:sha256:)?([0-9a-f]{64})")


def document_id(body: str) -> str:
    return "sha256:" + hashlib.sha256(body.encode()).hexdigest()


def normalise_id(value: object) -> str:
    """``sha256:<hex>``, from that or a bare hex digest (Apollo's persistedQuery.sha256Hash)."""
    match = _ID.fullmatch(str(value).lower()) if isinstance(value, str) else None
    if match is None:
        raise BadUserInput("a document id is sha256: and 64 hex digits", documentId=str(value)[:80])
    return f"sha256:{match.group(1)}"


class TrustedDocuments:
    def __init__(self, size: int = 10_000) -> None:
        self.known: LRUCache[str, str] = LRUCache(size)

    async def body(self, session: AsyncSession, doc_id: str) -> str | None:
        found = self.known.get(doc_id)
        if found is None:
            query = select(TrustedDocument.body).where(TrustedDocument.id == doc_id)
            found = (await session.execute(query)).scalar_one_or_none()
            if found is not None:
                self.known[doc_id] = found
        return found


async def register(session: AsyncSession, body: str, name: str | None) -> tuple[str, bool]:
    """The document's id, and whether it was new (registering twice is harmless)."""
    try:
        parse(body)
    except GraphQLError as exc:
        raise BadUserInput(f"not a GraphQL document: {exc.message}") from None
    doc_id = document_id(body)
    added = await session.execute(
        insert(TrustedDocument)
        .values(id=doc_id, body=body, name=name)
        .on_conflict_do_nothing()
        .returning(TrustedDocument.id)
    )
    return doc_id, added.scalar_one_or_none() is not None


async def listed(session: AsyncSession) -> list[TrustedDocument]:
    query = select(TrustedDocument).order_by(TrustedDocument.created_at, TrustedDocument.id)
    return list((await session.execute(query)).scalars())
