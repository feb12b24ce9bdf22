"""The hub's token-signing keys: a private JWKS in a file from configuration, never in the
database. The first key signs; every key verifies, so a rotation publishes the old and the new
key side by side until the old tokens have expired."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from joserfc.jwk import KeySet, RSAKey

from hub.ops import keyfiles

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


def _encoded(keys: KeySet) -> bytes:
    return json.dumps(keys.as_dict(private=True), indent=2).encode()


def load_or_create(path: Path) -> SigningKeys:
    """Read the key file, creating it (mode 0600) with one new key on first run."""
    data = json.loads(keyfiles.load_or_create(path, lambda: _encoded(KeySet([new_key()]))))
    keys = KeySet.import_key_set(data)
    if not keys.keys:
        raise ValueError(f"{path} holds no keys")
    return SigningKeys(keys)


def write_keys(path: Path, keys: KeySet) -> None:
    keyfiles.write_private(path, _encoded(keys))


def rotate(path: Path) -> str:
    """A new signing key, first in the file; the old ones stay to verify the tokens they signed
    until those expire (then `retire` them). Returns the new key's id."""
    current = load_or_create(path).private
    fresh = new_key()
    write_keys(path, KeySet([fresh, *current.keys]))
    return str(fresh.kid)


def retire(path: Path, kid: str) -> None:
    """Remove a verification key (tokens it signed stop working at once)."""
    current = load_or_create(path).private
    kids = [str(k.kid) for k in current.keys]
    if kid not in kids:
        raise ValueError(f"no key {kid} in {path}; keys: {', '.join(kids)}")
    if kid == kids[0]:
        raise ValueError(f"{kid} signs new tokens; rotate first, then retire it")
    write_keys(path, KeySet([k for k in current.keys if str(k.kid) != kid]))
