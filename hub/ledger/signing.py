"""The checkpoint signing key: Ed25519, in a file from configuration, never in the database."""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

from hub.ledger.note import Verifier, key_id, verifier_key
from hub.ops import keyfiles


class LedgerKey:
    def __init__(self, name: str, private: Ed25519PrivateKey) -> None:
        self.name = name
        self.private = private

    @property
    def verifier(self) -> Verifier:
        public = self.private.public_key()
        return Verifier(self.name, key_id(self.name, public), public)

    @property
    def verifier_key(self) -> str:
        return verifier_key(self.name, self.private.public_key())

    @classmethod
    def load_or_create(cls, path: Path, name: str) -> LedgerKey:
        pem = keyfiles.load_or_create(
            path,
            lambda: Ed25519PrivateKey.generate().private_bytes(
                Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
            ),
        )
        key = load_pem_private_key(pem, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path} does not hold an Ed25519 private key")
        return cls(name, key)
