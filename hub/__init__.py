"""Compliance Hub: factory labour-compliance reports shared with buyers under consent."""

__version__ = "0.1.0"
