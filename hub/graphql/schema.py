"""The root schema: a table of contents of the domain modules, plus the document limits."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import strawberry
from graphql import ASTValidationRule, GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from hub.assessments.graphql import (
    AssessmentsMutation,
    AssessmentsQuery,
    SharingMutation,
    SharingQuery,
)
from hub.config import Settings
from hub.consent.graphql import ConsentMutation, ConsentQuery
from hub.directory.graphql import DirectoryQuery
from hub.disclosures.graphql import DisclosureQuery
from hub.documents.registry import TrustedDocuments
from hub.events.graphql import EventsSubscription
from hub.graphql.errors import CodedErrors
from hub.graphql.limits import RequestLimits
from hub.graphql.ratelimit import ClientBudgets
from hub.graphql.response_cache import ResponseCacheExtension
from hub.graphql.transaction import TransactionExtension
from hub.graphql.trusted import TrustedDocumentsExtension
from hub.ledger.graphql import LedgerMutation, LedgerQuery
from hub.matching.graphql import SupplierMutation, SupplierQuery
from hub.webhooks.graphql import WebhookMutation, WebhookQuery


@strawberry.type
class Query(
    DirectoryQuery,
    SupplierQuery,
    AssessmentsQuery,
    SharingQuery,
    ConsentQuery,
    DisclosureQuery,
    LedgerQuery,
    WebhookQuery,
):
    pass


@strawberry.type
class Mutation(
    SupplierMutation,
    ConsentMutation,
    AssessmentsMutation,
    SharingMutation,
    LedgerMutation,
    WebhookMutation,
):
    pass


@strawberry.type
class Subscription(EventsSubscription):
    pass


class HubSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Expected errors (a FORBIDDEN field, a bad input) are answers, not incidents: they are
        not logged. Unexpected ones are logged once, with their request id, where they are
        masked (hub.graphql.errors.CodedErrors). Strawberry's default logs every error with a
        traceback, which cost a tenth of a request's CPU under load."""


def build_schema(
    settings: Settings,
    keep_answers: bool = False,
    budgets: ClientBudgets | None = None,
    documents: TrustedDocuments | None = None,
) -> strawberry.Schema:
    # The depth and alias limiters build a new rule class per instance; made once here, the
    # rules are the same objects in every request, so ValidationCache (keyed by them) hits.
    # (Measured: without this, validation was a third of a small request's CPU.)
    rules: list[type[ASTValidationRule]] = [
        *QueryDepthLimiter(max_depth=settings.max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=settings.max_aliases).validation_rules,
    ]
    if settings.production:
        rules.append(NoSchemaIntrospectionCustomRule)
    # classes or factories, never instances: instances leak state across concurrent requests
    extensions: list[type[SchemaExtension] | Callable[[], SchemaExtension]] = [
        TransactionExtension,
        # after the transaction's on_operation: it reads the registry in the request's session
        partial(TrustedDocumentsExtension, documents or TrustedDocuments()),
        CodedErrors,
        partial(
            RequestLimits, budgets or ClientBudgets(settings), settings.max_cost, settings.page_max
        ),
        partial(AddValidationRules, rules),
        partial(MaxTokensLimiter, max_token_count=settings.max_tokens),
        ParserCache,
        ValidationCache,
    ]
    if keep_answers:
        # first: its on_operation wraps the transaction's, so it keeps only settled answers
        extensions.insert(0, ResponseCacheExtension)
    return HubSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        config=StrawberryConfig(auto_camel_case=True),
    )
