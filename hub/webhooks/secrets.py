"""Webhook signing secrets: shown to their owner once, kept encrypted (Fernet) with a key that
lives in a file beside the database, never in it. A copy of the database alone cannot forge a
delivery; the hub must keep the secret itself, because it signs with it."""

from __future__ import annotations

import base64
import functools
import secrets
from pathlib import Path

from cryptography.fernet import Fernet

from hub.ops import keyfiles

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and the base64 of 24 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


@functools.cache
def box_at(path: Path) -> SecretBox:
    """The process's box for this key file (read once)."""
    return SecretBox.load_or_create(path)


class SecretBox:
    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    @classmethod
    def load_or_create(cls, path: Path) -> SecretBox:
        return cls(keyfiles.load_or_create(path, Fernet.generate_key).strip())

    def seal(self, secret: str) -> bytes:
        return self._fernet.encrypt(secret.encode())

    def open(self, sealed: bytes) -> str:
        return self._fernet.decrypt(sealed).decode()
