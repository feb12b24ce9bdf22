"""Trusted documents: GraphQL operations registered ahead, sent by their hash."""
