"""The consent console: server-rendered pages for factory staff and auditors, on the GraphQL
API (every page runs operations through the same schema, checks and disclosure record)."""
