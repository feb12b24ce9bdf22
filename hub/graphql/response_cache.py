"""Answers to repeated queries, reused while nothing they were built from has changed.

A buyer's sourcing system asks the same questions many times a day. Executing a 100-supplier
answer costs graphql-core tens of milliseconds of CPU (bench/RESULTS.md); reusing it costs a
dictionary lookup and the bytes already sent once. This module decides what may be kept (the
extension, after the transaction has settled the answer); hub.graphql.reuse serves kept answers
at the HTTP edge, before strawberry parses anything. What keeps a reused answer correct:

- An answer is kept per caller (subject, organisation, role) and exact request body, with the
  data revision its request read before anything else (hub.db.revisions), and reused only by a
  request that reads the same revision. Any commit to any tracked table, any consent event,
  moves the revision for every request that starts after it; the consent projection has caught
  up to a ledger head read in the same statement.
- Consent can lapse without a commit (an expiry): an answer for a buyer is kept no longer than
  the earliest expiry among the buyer's grants in force when it was built.
- Protected content reused is disclosed again: the answer's disclosure items go through the
  same commit-time check (FOR SHARE on the consent rows) and are written to the disclosure log
  like freshly resolved ones. If the check refuses, the answer is not reused: the request runs
  as if nothing were kept, and fails closed as it would have.
- A reuse is charged the cost the first answer was charged (the client's budget).
- Only queries whose root fields are all in CACHEABLE_ROOTS, sent as text (a trusted document
  is read from a table no revision tracks, and so is what a trusted-documents-only client may
  run: neither is kept), only answers that stood (the transaction extension settled them: no
  failed check, no failed commit), and only errors that are decisions (FORBIDDEN, NOT_FOUND),
  never faults.
"""

from __future__ import annotations

import math
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from cachetools import TLRUCache
from graphql import FieldNode, OperationDefinitionNode
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from hub.auth.principal import Principal
from hub.disclosures.recorder import Disclosed
from hub.graphql.context import Context

# root fields whose answers depend only on tracked tables, the consent projection and the caller
CACHEABLE_ROOTS = frozenset(
    {"viewer", "factories", "factory", "suppliers", "questions", "assessment", "__typename"}
)
DECISION_CODES = frozenset({"FORBIDDEN", "NOT_FOUND"})
# where the HTTP edge (hub.ops.guard, hub.graphql.reuse) and this extension meet in the ASGI
# scope: the request body as read, and what to keep of the answer once it is sent
BODY = "hub.body"
KEEP = "hub.keep"

Key = tuple[Any, ...]


def answer_key(principal: Principal, body: bytes) -> Key:
    """Who asks and what: one entry each, holding the data revision it was built on (a newer
    answer replaces it, so answers of past revisions do not crowd the cache)."""
    return (principal.subject, principal.org_id, principal.role, body)


@dataclass(frozen=True, slots=True)
class Keep:
    """What the extension found keepable; the edge adds the bytes it sent."""

    key: Key
    revision: int
    disclosed: frozenset[Disclosed]
    valid_until: datetime | None
    cost: int


@dataclass(frozen=True, slots=True)
class CachedAnswer:
    revision: int  # the data revision it was built on: reused only while it is the current one
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes
    disclosed: frozenset[Disclosed]
    valid_until: datetime | None
    cost: int


def _lapses(_key: Key, answer: CachedAnswer, _now: float) -> float:
    return answer.valid_until.timestamp() if answer.valid_until is not None else math.inf


class ResponseCache:
    """Process-wide: least recently used first out, bounded by entry count, and each answer
    gone at its own lapse time (cachetools' TLRU cache on the wall clock)."""

    def __init__(self, max_entries: int) -> None:
        self._entries: TLRUCache[Key, CachedAnswer] = TLRUCache(
            max_entries, ttu=_lapses, timer=time.time
        )
        self.hits = 0
        self.misses = 0

    def peek(self, key: Key) -> CachedAnswer | None:
        """The entry for this caller and body, of whatever revision (counted by ``reused``)."""
        return self._entries.get(key)

    def reused(self, found: CachedAnswer | None, revision: int) -> CachedAnswer | None:
        """The entry if it was built on ``revision``, the current one; counts hits and misses."""
        if found is None or found.revision != revision:
            self.misses += 1
            return None
        self.hits += 1
        return found

    def put(self, key: Key, answer: CachedAnswer) -> None:
        self._entries[key] = answer

    def __len__(self) -> int:
        return len(self._entries)


def _root_fields(operation: OperationDefinitionNode) -> list[str | None]:
    # a fragment at the root is possible but rare: not worth reading, not cached
    return [
        s.name.value if isinstance(s, FieldNode) else None
        for s in operation.selection_set.selections
    ]


def sent_as_text(body: bytes) -> bool:
    """A request with its query as text, nothing named by id, no extensions."""
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return False
    return (
        isinstance(parsed, dict)
        and isinstance(parsed.get("query"), str)
        and "documentId" not in parsed
        and not parsed.get("extensions")
    )


class ResponseCacheExtension(SchemaExtension):
    """Marks a settled answer as keepable; the HTTP edge keeps it with the bytes it sent."""

    async def on_operation(self) -> AsyncIterator[None]:
        yield
        # here the transaction extension (inside this one) has checked and committed
        context = self.execution_context.context
        if not isinstance(context, Context) or context.request is None:
            return
        scope = getattr(context.request, "scope", None)
        if not isinstance(scope, dict) or context.revisions is None:
            return
        body = scope.get(BODY)
        if body is None or not self._keepable(context) or not sent_as_text(body):
            return
        scope[KEEP] = Keep(
            key=answer_key(context.principal, body),
            revision=context.revisions.data,
            disclosed=frozenset(context.disclosures.items),
            valid_until=context.authz.valid_until(),
            cost=int(context.extra.get("cost", 0)),
        )

    def _keepable(self, context: Context) -> bool:
        ec = self.execution_context
        if (
            context.revisions is None
            or not context.settled
            or not context.authz.healthy
            or context.principal.trusted_only
            or ec.operation_type is not OperationType.QUERY
        ):
            return False
        document = ec.graphql_document
        operations = [
            d
            for d in (document.definitions if document else ())
            if isinstance(d, OperationDefinitionNode)
        ]
        if len(operations) != 1 or not all(
            name in CACHEABLE_ROOTS for name in _root_fields(operations[0])
        ):
            return False
        errors = getattr(ec.result, "errors", None) or ()
        return all((e.extensions or {}).get("code") in DECISION_CODES for e in errors)
