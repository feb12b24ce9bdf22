"""The hub's token-signing keys: a private JWKS in a file from configuration, never in the
database. The first key signs; every key verifies, so a rotation publishes the old and the new
key side by side until the old tokens have expired."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from joserfc.jwk import KeySet, RSAKey

ALGORITHM = "RS256"


@dataclass(frozen=True)
class SigningKeys:
    private: KeySet

    @property
    def signing_key(self) -> RSAKey:
        key = self.private.keys[0]
        assert isinstance(key, RSAKey)
        return key

    def public_jwks(self) -> dict[str, Any]:
        return cast(dict[str, Any], self.private.as_dict(private=False))

    def verification_keys(self) -> KeySet:
        return KeySet.import_key_set(self.private.as_dict(private=False))


def new_key() -> RSAKey:
    return RSAKey.generate_key(
        2048, parameters={"use": "sig", "alg": ALGORITHM}, private=True, auto_kid=True
    )


def load_or_create(path: Path) -> SigningKeys:
    """Read the key file, creating it (mode 0600) with one new key on first run."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        write_keys(path, KeySet([new_key()]))
    data = json.loads(path.read_text())
    keys = KeySet.import_key_set(data)
    if not keys.keys:
        raise ValueError(f"{path} holds no keys")
    return SigningKeys(keys)


def write_keys(path: Path, keys: KeySet) -> None:
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(keys.as_dict(private=True), f, indent=2)
    os.replace(tmp, path)
