"""Trusted documents: a request may name a registered operation instead of sending its text -
``{"documentId": "sha256:…"}`` (the GraphQL-over-HTTP convention) or Apollo's
``extensions.persistedQuery.sha256Hash`` - and a client registered as trusted-documents-only
(its token's ``tdo`` claim) gets nothing else run: a stolen token of such a sourcing system can
ask only what the system was built to ask.

The document is looked up in on_operation, before parsing: the text filled in is what gets
parsed, validated, costed and cached. A refusal is raised only in on_execute: strawberry enters
the extensions' on_operation hooks one by one and does not unwind those already entered when a
later one raises (the transaction's would keep its connection), while an error raised in
on_execute ends the operation through every hook's exit."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from strawberry.extensions import SchemaExtension

from hub.documents.registry import TrustedDocuments, document_id, normalise_id
from hub.errors import BadUserInput, Forbidden
from hub.graphql.context import Context


def requested_id(extensions: dict[str, Any] | None) -> str | None:
    if not extensions:
        return None
    named = extensions.get("documentId")
    if named is None:
        persisted = extensions.get("persistedQuery")
        named = persisted.get("sha256Hash") if isinstance(persisted, dict) else None
    return None if named is None else normalise_id(named)


# parsed in place of a document that could not be had, so the refusal is what answers
PLACEHOLDER = "{ __typename }"


class TrustedDocumentsExtension(SchemaExtension):
    def __init__(self, documents: TrustedDocuments) -> None:
        self.documents = documents
        self.refusal: Exception | None = None

    async def on_operation(self) -> AsyncIterator[None]:
        ec = self.execution_context
        context = ec.context
        if isinstance(context, Context):
            try:
                await self._resolve(context)
            except Exception as exc:  # raised again in on_execute
                self.refusal = exc
                ec.query = ec.query or PLACEHOLDER
        yield

    def on_execute(self) -> Iterator[None]:
        if self.refusal is not None:
            raise self.refusal
        yield

    async def _resolve(self, context: Context) -> None:
        ec = self.execution_context
        named = requested_id(ec.operation_extensions)
        if named is not None:
            if ec.query:
                if document_id(ec.query) != named:
                    raise BadUserInput("the query sent is not the document its id names")
            else:
                async with context.db.session() as session:
                    ec.query = await self.documents.body(session, named)
                if ec.query is None:
                    raise BadUserInput(f"no registered document {named}", documentId=named)
            return
        if context.principal.trusted_only and ec.query:
            named = document_id(ec.query)
            async with context.db.session() as session:
                known = await self.documents.body(session, named)
            if known is None:
                raise Forbidden(
                    "this client may run registered documents only; send one by its "
                    "documentId (this text is not registered)",
                    documentId=named,
                )
