"""Who is calling: the verified identity a request carries from the token middleware on."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from hub.directory.models import Role


@dataclass(frozen=True, slots=True)
class Principal:
    org_id: uuid.UUID
    role: Role
    # the OAuth client (machine) or, later, the person acting
    subject: str
    token_id: str
    expires_at: int
    # the client may run registered (trusted) documents only
    trusted_only: bool = False
