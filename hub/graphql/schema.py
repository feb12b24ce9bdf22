"""The root schema: a table of contents of the domain modules, plus the document limits."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import strawberry
from graphql import ASTValidationRule
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
from hub.graphql.errors import CodedErrors
from hub.graphql.transaction import TransactionExtension
from hub.ledger.graphql import LedgerMutation, LedgerQuery
from hub.matching.graphql import SupplierMutation, SupplierQuery


@strawberry.type
class Query(
    DirectoryQuery,
    SupplierQuery,
    AssessmentsQuery,
    SharingQuery,
    ConsentQuery,
    DisclosureQuery,
    LedgerQuery,
):
    pass


@strawberry.type
class Mutation(
    SupplierMutation, ConsentMutation, AssessmentsMutation, SharingMutation, LedgerMutation
):
    pass


def build_schema(settings: Settings) -> strawberry.Schema:
    # classes or factories, never instances: instances leak state across concurrent requests
    extensions: list[type[SchemaExtension] | Callable[[], SchemaExtension]] = [
        TransactionExtension,
        CodedErrors,
        partial(QueryDepthLimiter, max_depth=settings.max_depth),
        partial(MaxAliasesLimiter, max_alias_count=settings.max_aliases),
        partial(MaxTokensLimiter, max_token_count=settings.max_tokens),
        ParserCache,
        ValidationCache,
    ]
    if settings.production:
        rules: list[type[ASTValidationRule]] = [NoSchemaIntrospectionCustomRule]
        extensions.append(partial(AddValidationRules, rules))
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        extensions=extensions,
        config=StrawberryConfig(auto_camel_case=True),
    )
