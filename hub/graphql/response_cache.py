"""Answers to repeated queries, reused while nothing they were built from has changed.

A buyer's sourcing system asks the same questions many times a day. Executing a 100-supplier
answer costs graphql-core tens of milliseconds of CPU (bench/RESULTS.md); reusing it costs a
dictionary lookup. What keeps a reused answer correct:

- The key holds the data revision the request read before anything else (hub.db.revisions),
  who asks (subject, organisation, role) and the exact operation (document, operation name,
  variables). Any commit to any tracked table, any consent event, changes the key for every
  request that starts after it; the consent projection has caught up to a ledger head read in
  the same statement.
- Consent can lapse without a commit (an expiry): an answer for a buyer is kept no longer than
  the earliest expiry among the buyer's grants in force when it was built.
- Protected content reused is disclosed again: the answer's disclosure items go through the
  same commit-time check (FOR SHARE on the consent rows) and are written to the disclosure log
  like freshly resolved ones. If the check refuses, the request fails closed as it would have.
- Only queries whose root fields are all in CACHEABLE_ROOTS, only answers that stood (the
  transaction extension settled them: no failed check, no failed commit), and only errors that
  are decisions (FORBIDDEN, NOT_FOUND), never faults.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cachetools import TLRUCache
from graphql import FieldNode, GraphQLError, OperationDefinitionNode
from graphql.execution import ExecutionResult
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from hub.disclosures.recorder import Disclosed
from hub.graphql.context import Context

# root fields whose answers depend only on tracked tables, the consent projection and the caller
CACHEABLE_ROOTS = frozenset(
    {"viewer", "factories", "factory", "suppliers", "questions", "assessment", "__typename"}
)
DECISION_CODES = frozenset({"FORBIDDEN", "NOT_FOUND"})

Key = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class CachedAnswer:
    data: dict[str, Any] | None
    errors: tuple[GraphQLError, ...]
    disclosed: frozenset[Disclosed]
    valid_until: datetime | None


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

    def get(self, key: Key) -> CachedAnswer | None:
        found = self._entries.get(key)
        if found is None:
            self.misses += 1
        else:
            self.hits += 1
        return found

    def put(self, key: Key, answer: CachedAnswer) -> None:
        self._entries[key] = answer

    def __len__(self) -> int:
        return len(self._entries)


def _root_fields(operation: OperationDefinitionNode) -> Iterator[str | None]:
    for selection in operation.selection_set.selections:
        # a fragment at the root is possible but rare: not worth reading, not cached
        yield selection.name.value if isinstance(selection, FieldNode) else None


class ResponseCacheExtension(SchemaExtension):
    def __init__(self, cache: ResponseCache) -> None:
        self.cache = cache
        self.key: Key | None = None
        self.hit = False

    def _cache_key(self) -> Key | None:
        ec = self.execution_context
        context = ec.context
        if not isinstance(context, Context) or context.revisions is None:
            return None
        if ec.operation_type is not OperationType.QUERY or not context.authz.healthy:
            return None
        document = ec.graphql_document
        operations = [
            d
            for d in (document.definitions if document else ())
            if isinstance(d, OperationDefinitionNode)
        ]
        if len(operations) != 1 or not all(
            name in CACHEABLE_ROOTS for name in _root_fields(operations[0])
        ):
            return None
        p = context.principal
        variables = json.dumps(ec.variables or {}, sort_keys=True, default=str)
        return (
            context.revisions.data,
            p.subject,
            p.org_id,
            p.role,
            ec.query,
            ec.operation_name,
            variables,
        )

    def on_execute(self) -> Iterator[None]:
        self.key = self._cache_key()
        if self.key is not None:
            found = self.cache.get(self.key)
            if found is not None:
                context: Context = self.execution_context.context
                context.disclosures.items.update(found.disclosed)
                self.execution_context.result = ExecutionResult(
                    data=found.data, errors=list(found.errors) or None
                )
                self.hit = True
        yield

    async def on_operation(self) -> AsyncIterator[None]:
        yield
        # here the transaction extension (inside this one) has checked and committed
        if self.key is None or self.hit:
            return
        context: Context = self.execution_context.context
        result = self.execution_context.result
        errors = tuple(getattr(result, "errors", None) or ())
        if not context.settled or not all(
            (e.extensions or {}).get("code") in DECISION_CODES for e in errors
        ):
            return
        self.cache.put(
            self.key,
            CachedAnswer(
                data=getattr(result, "data", None),
                errors=errors,
                disclosed=frozenset(context.disclosures.items),
                valid_until=context.authz.valid_until(),
            ),
        )
