"""What a query costs before it runs: an estimate of the objects it can return.

Like GitHub's node limit: a field with a `first` argument multiplies the cost of what is
selected under it by `first` (the argument's default when absent; the `edges` list of that
connection is not counted twice); any other list multiplies by LIST_SIZE, an estimate of a
typical unpaginated list (findings of an assessment, clusters of a summary); every field costs
one. Variables are read from the request. Requests estimated above HUB_MAX_COST are refused
before execution (QUERY_TOO_COMPLEX); the estimate is also what a client's rate-limit budget is
charged (hub.graphql.limits).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    get_nullable_type,
    is_list_type,
    value_from_ast,
)

LIST_SIZE = 20


def operations(document: DocumentNode) -> list[OperationDefinitionNode]:
    return [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]


def estimate(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    page_max: int = 100,
) -> int:
    """``first`` counts up to ``page_max``: a larger one is refused by the page check itself,
    with a clearer error than the cost's."""
    found = operations(document)
    chosen = [
        o for o in found if operation_name is None or (o.name and o.name.value == operation_name)
    ]
    if not chosen:
        return 0  # graphql-core reports the unknown operation
    operation = chosen[0]
    root = schema.get_root_type(operation.operation)
    if root is None:
        return 0
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    walk = _Walk(schema, fragments, variables or {}, page_max)
    return walk.cost(root, operation.selection_set, False)


class _Walk:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
        page_max: int,
    ) -> None:
        self.page_max = page_max
        self.schema = schema
        self.fragments = fragments
        self.variables = dict(variables)
        self.depth = 0

    def cost(
        self, parent: GraphQLNamedType, selections: SelectionSetNode, in_connection: bool
    ) -> int:
        self.depth += 1
        if self.depth > 64:  # a fragment cycle; validation refuses it, never loop here
            return 0
        try:
            return sum(self._selection(parent, s, in_connection) for s in selections.selections)
        finally:
            self.depth -= 1

    def _selection(self, parent: GraphQLNamedType, node: Any, in_connection: bool) -> int:
        if isinstance(node, InlineFragmentNode):
            typed = (
                self.schema.get_type(node.type_condition.name.value)
                if node.type_condition
                else parent
            )
            return self.cost(typed or parent, node.selection_set, in_connection)
        if isinstance(node, FragmentSpreadNode):
            fragment = self.fragments.get(node.name.value)
            if fragment is None:
                return 0
            typed = self.schema.get_type(fragment.type_condition.name.value)
            return self.cost(typed or parent, fragment.selection_set, in_connection)
        assert isinstance(node, FieldNode)
        if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return 1
        field = parent.fields.get(node.name.value)
        if field is None or node.selection_set is None:
            return 1
        factor, connection = 1, False
        if "first" in field.args:
            factor, connection = self._first(node, field.args["first"]), True
        elif is_list_type(get_nullable_type(field.type)):
            # a connection's edges were counted by its `first`
            factor = 1 if in_connection and node.name.value == "edges" else LIST_SIZE
        inner = self.cost(get_named_type(field.type), node.selection_set, connection)
        return 1 + factor * inner

    def _first(self, node: FieldNode, argument: Any) -> int:
        for arg in node.arguments or ():
            if arg.name.value == "first":
                value = value_from_ast(arg.value, argument.type, self.variables)
                break
        else:
            value = argument.default_value
        return min(value, self.page_max) if isinstance(value, int) and value > 0 else 1
