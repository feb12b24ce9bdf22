"""Directory use cases: organisations, their clients, factory profiles and claims."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from iso3166 import countries_by_alpha2
from sqlalchemy.ext.asyncio import AsyncSession

from hub.config import secret_hash_cost
from hub.db.paging import Page, check_first
from hub.directory.models import Factory, OAuthClient, Organization, Role
from hub.directory.repository import DirectoryRepository
from hub.errors import BadUserInput, Conflict, NotFound
from hub.matching.normalise import normalise_address, normalise_name

# Crockford's base32 without I, L, O, U: hub ids are read aloud and typed by people
_HUB_ID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
MAX_NAME_FILTER = 200


def normalise_country(code: str) -> str:
    """An ISO 3166-1 alpha-2 code in upper case, or BadUserInput."""
    upper = code.strip().upper()
    if len(upper) != 2 or upper not in countries_by_alpha2:
        raise BadUserInput(f"unknown country code {code!r}: use ISO 3166-1 alpha-2, e.g. KH")
    return upper


def parse_role(value: str) -> Role:
    try:
        return Role(value.strip().upper())
    except ValueError:
        names = ", ".join(r.value for r in Role)
        raise BadUserInput(f"unknown role {value!r}: one of {names}") from None


def new_hub_id() -> str:
    return "CH-" + "".join(secrets.choice(_HUB_ID_ALPHABET) for _ in range(8))


# scrypt (the standard library's, RFC 7914) at the cost OWASP names as a floor: 2^14, 8, 1 is
# about 16 MiB and 40 ms per check. Client secrets are random and long, so a fast hash would
# resist guessing too; the slow one also holds for people's passwords, and it runs only when a
# client asks for a token or a person signs in (in a worker thread), never per request.
# The cost is HUB_SECRET_HASH_COST (log2 N, default 14).
_SCRYPT_R, _SCRYPT_P = 8, 1


def _scrypt(secret: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(secret.encode(), salt=salt, n=n, r=r, p=p, maxmem=64 * 2**20, dklen=32)


def hash_secret(secret: str) -> str:
    salt = secrets.token_bytes(16)
    n = 2 ** secret_hash_cost()
    digest = _scrypt(secret, salt, n, _SCRYPT_R, _SCRYPT_P)
    b64 = base64.b64encode
    return f"scrypt${n}${_SCRYPT_R}${_SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


def secret_matches(secret: str, secret_hash: str) -> bool:
    if not secret_hash.startswith("scrypt$"):
        # clients made before scrypt: a SHA-256 hex digest (still 256-bit random secrets)
        legacy = hashlib.sha256(secret.encode()).hexdigest()
        return hmac.compare_digest(legacy, secret_hash)
    try:
        _, n, r, p, salt, digest = secret_hash.split("$")
        computed = _scrypt(secret, base64.b64decode(salt), int(n), int(r), int(p))
        return hmac.compare_digest(computed, base64.b64decode(digest))
    except (ValueError, binascii.Error):
        return False  # a damaged hash matches nothing


@dataclass(frozen=True)
class NewFactory:
    name: str
    country: str
    address: str | None = None
    os_id: str | None = None
    registration_number: str | None = None
    sector: str | None = None
    worker_count: int | None = None


@dataclass(frozen=True)
class NewOrganization:
    role: Role
    name: str
    country: str | None = None
    address: str | None = None
    os_id: str | None = None
    claim: str | None = None  # a factory id or hub id, for a FACTORY organisation


@dataclass(frozen=True)
class IssuedClient:
    client: OAuthClient
    secret: str


class DirectoryService:
    def __init__(self, session: AsyncSession) -> None:
        self.repo = DirectoryRepository(session)

    async def create_factory(self, new: NewFactory) -> Factory:
        name = new.name.strip()
        if not name:
            raise BadUserInput("a factory needs a name")
        if new.worker_count is not None and new.worker_count < 0:
            raise BadUserInput("worker count cannot be negative")
        factory = Factory(
            hub_id=new_hub_id(),
            name=name,
            norm_name=normalise_name(name),
            norm_address=normalise_address(new.address),
            country=normalise_country(new.country),
            address=new.address,
            os_id=new.os_id or None,
            registration_number=new.registration_number or None,
            sector=new.sector,
            worker_count=new.worker_count,
        )
        await self.repo.add(factory)
        return factory

    async def create_organization(
        self, new: NewOrganization
    ) -> tuple[Organization, Factory | None]:
        name = new.name.strip()
        if not name:
            raise BadUserInput("an organisation needs a name")
        country = normalise_country(new.country) if new.country else None
        if new.role is not Role.FACTORY and (new.claim or new.address or new.os_id):
            raise BadUserInput("--claim, --address and --os-id are for FACTORY organisations")
        org = Organization(role=new.role, name=name, country=country)
        await self.repo.add(org)
        if new.role is not Role.FACTORY:
            return org, None
        if new.claim:
            factory = await self.claim_factory(org, new.claim)
        else:
            if country is None:
                raise BadUserInput("a FACTORY organisation needs --country for its profile")
            factory = await self.create_factory(
                NewFactory(name=name, country=country, address=new.address, os_id=new.os_id)
            )
            factory.claimed_by_org_id = org.id
            await self.repo.session.flush()
        return org, factory

    async def find_factory(self, ref: str) -> Factory:
        """A factory by its id or hub id; NotFound otherwise."""
        factory: Factory | None
        try:
            factory = await self.repo.factory(uuid.UUID(ref))
        except ValueError:
            factory = await self.repo.factory_by_hub_id(ref.strip().upper())
        # a merged record answers as the one it was merged into
        for _ in range(8):
            if factory is None or factory.merged_into_id is None:
                break
            factory = await self.repo.factory(factory.merged_into_id)
        if factory is None:
            raise NotFound(f"no factory {ref!r}")
        return factory

    async def claim_factory(self, org: Organization, ref: str) -> Factory:
        factory = await self.find_factory(ref)
        if factory.claimed_by_org_id not in (None, org.id):
            raise Conflict(f"factory {factory.hub_id} is already claimed by another organisation")
        factory.claimed_by_org_id = org.id
        if org.country is None:
            org.country = factory.country
        await self.repo.session.flush()
        return factory

    async def create_client(
        self, org_id: uuid.UUID, name: str | None = None, redirect_uris: Sequence[str] = ()
    ) -> IssuedClient:
        """A machine client with a secret; or, given redirect URIs, a public client for
        people's tools (authorization code with PKCE; no secret: the empty string)."""
        org = await self.repo.organization(org_id)
        if org is None:
            raise NotFound(f"no organisation {org_id}")
        for uri in redirect_uris:
            parts = urlsplit(uri)
            local = parts.hostname in ("localhost", "127.0.0.1", "::1")
            if parts.fragment or not parts.netloc or not (parts.scheme == "https" or local):
                raise BadUserInput(
                    f"a redirect URI is https (or http on this machine), without a fragment: {uri}"
                )
        secret = "" if redirect_uris else secrets.token_urlsafe(32)
        client = OAuthClient(
            client_id="chc_" + secrets.token_urlsafe(16),
            secret_hash=hash_secret(secret) if secret else "",
            org_id=org.id,
            name=name,
            public=bool(redirect_uris),
            redirect_uris=list(redirect_uris),
        )
        await self.repo.add(client)
        return IssuedClient(client, secret)

    async def page_factories(
        self,
        *,
        country: str | None,
        name_contains: str | None,
        first: int,
        after: str | None,
        page_max: int,
    ) -> Page[Factory]:
        """Directory fields are visible to every authenticated principal."""
        check_first(first, page_max)
        needle = (name_contains or "").strip()
        if len(needle) > MAX_NAME_FILTER:
            raise BadUserInput(f"nameContains is limited to {MAX_NAME_FILTER} characters")
        return await self.repo.page_factories(
            country=normalise_country(country) if country else None,
            name_contains=needle or None,
            first=first,
            after=after,
        )
