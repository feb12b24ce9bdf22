"""C2SP signed notes and checkpoints (c2sp.org/signed-note, c2sp.org/tlog-checkpoint), Ed25519.

Standard library and `cryptography` only: the offline verifier imports this module.

    <origin>\\n<tree size>\\n<base64 root hash>\\n      <- the signed body
    \\n
    — <key name> <base64(4-byte key id || 64-byte signature)>\\n

The key id is the first 4 bytes of SHA-256(key name || 0x0A || 0x01 || public key); a verifier
key is written `<name>+<hex key id>+<base64(0x01 || public key)>`.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ED25519 = 0x01
DASH = "\u2014 "


class NoteError(ValueError):
    """The text is not a well-formed note or checkpoint."""


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(name: str, public: Ed25519PublicKey) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([ED25519]) + _raw_public(public)).digest()[
        :4
    ]


def verifier_key(name: str, public: Ed25519PublicKey) -> str:
    encoded = base64.b64encode(bytes([ED25519]) + _raw_public(public)).decode()
    return f"{name}+{key_id(name, public).hex()}+{encoded}"


@dataclass(frozen=True)
class Verifier:
    name: str
    id: bytes
    key: Ed25519PublicKey

    @classmethod
    def parse(cls, text: str) -> Verifier:
        try:
            name, hex_id, encoded = text.strip().split("+", 2)
            raw = base64.b64decode(encoded, validate=True)
        except ValueError as exc:
            raise NoteError(f"not a verifier key: {exc}") from None
        if len(raw) != 33 or raw[0] != ED25519:
            raise NoteError("not an Ed25519 verifier key")
        key = Ed25519PublicKey.from_public_bytes(raw[1:])
        if key_id(name, key).hex() != hex_id:
            raise NoteError("the verifier key's id does not match its key")
        return cls(name, bytes.fromhex(hex_id), key)


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes

    def body(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"


def sign(checkpoint: Checkpoint, name: str, private: Ed25519PrivateKey) -> tuple[str, bytes]:
    """The whole signed note and the raw signature."""
    body = checkpoint.body()
    signature = private.sign(body.encode())
    stamp = base64.b64encode(key_id(name, private.public_key()) + signature).decode()
    return f"{body}\n{DASH}{name} {stamp}\n", signature


def parse_checkpoint(note: str) -> tuple[Checkpoint, list[tuple[str, bytes, bytes]]]:
    """The checkpoint and its signature lines (name, key id, signature); nothing verified."""
    body, sep, signatures = note.partition("\n\n")
    if not sep or not note.endswith("\n"):
        raise NoteError("a note is a body, a blank line and signature lines")
    lines = body.split("\n")
    if len(lines) < 3:
        raise NoteError("a checkpoint body has an origin, a size and a root hash")
    origin, size_text, root_text = lines[0], lines[1], lines[2]
    if not size_text.isdigit() or (size_text.startswith("0") and size_text != "0"):
        raise NoteError(f"not a tree size: {size_text!r}")
    try:
        root = base64.b64decode(root_text, validate=True)
    except ValueError:
        raise NoteError("the root hash is not base64") from None
    if len(root) != 32:
        raise NoteError("the root hash is not 32 bytes")
    sigs: list[tuple[str, bytes, bytes]] = []
    for line in signatures.rstrip("\n").split("\n"):
        if not line.startswith(DASH):
            raise NoteError(f"not a signature line: {line[:40]!r}")
        name, _, stamp = line[len(DASH) :].rpartition(" ")
        try:
            raw = base64.b64decode(stamp, validate=True)
        except ValueError:
            raise NoteError("a signature is not base64") from None
        if len(raw) < 5:
            raise NoteError("a signature is too short")
        sigs.append((name, raw[:4], raw[4:]))
    return Checkpoint(origin, int(size_text), root), sigs


def verify_checkpoint(note: str, verifier: Verifier) -> Checkpoint:
    """The checkpoint if `verifier` signed exactly this body; NoteError otherwise."""
    checkpoint, signatures = parse_checkpoint(note)
    body = note.partition("\n\n")[0] + "\n"
    for name, kid, signature in signatures:
        if name == verifier.name and kid == verifier.id:
            try:
                verifier.key.verify(signature, body.encode())
            except InvalidSignature:
                raise NoteError("the signature does not verify") from None
            return checkpoint
    raise NoteError(f"no signature by {verifier.name}")
