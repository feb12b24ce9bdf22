"""`POST /oauth/token`: the client credentials grant (RFC 6749 §4.4) through authlib.

authlib's AuthorizationServer is synchronous, so the endpoint reads the form and loads the client
record with async SQL first, then lets authlib authenticate the client, check the grant and mint
the token in a worker thread (RSA signing stays off the event loop).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import unquote

from authlib.oauth2.rfc6749 import AuthorizationServer, ClientMixin, OAuth2Payload, OAuth2Request
from authlib.oauth2.rfc6749.grants import ClientCredentialsGrant
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hub.auth.codes import CodeGrant, CodeRecord, S256Challenge, claim_code
from hub.auth.tokens import HubTokenGenerator
from hub.config import Settings
from hub.db.faults import database_fault
from hub.directory.models import Role
from hub.directory.repository import DirectoryRepository
from hub.directory.service import secret_matches
from hub.ops.throttle import TARPIT, MinuteBudget

MAX_FORM_FIELDS = 20


@dataclass(frozen=True)
class ClientRecord(ClientMixin):  # type: ignore[misc]
    client_id: str
    secret_hash: str
    org_id: uuid.UUID
    role: Role
    revoked: bool
    trusted_only: bool = False
    # a person's tool: no secret; authorization code with PKCE, codes sent to these URIs only
    public: bool = False
    redirect_uris: tuple[str, ...] = ()

    def get_client_id(self) -> str:
        return self.client_id

    def check_client_secret(self, client_secret: str) -> bool:
        return (
            not self.revoked and not self.public and secret_matches(client_secret, self.secret_hash)
        )

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.public:
            return method == "none" and not self.revoked
        return method in ("client_secret_basic", "client_secret_post")

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == ("authorization_code" if self.public else "client_credentials")

    def check_response_type(self, response_type: str) -> bool:
        return self.public and not self.revoked and response_type == "code"

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def get_default_redirect_uri(self) -> str | None:
        return self.redirect_uris[0] if len(self.redirect_uris) == 1 else None

    def get_allowed_scope(self, scope: str) -> str:
        # the hub has no OAuth scopes: what a client may do follows from its organisation
        return ""


class _FormPayload(OAuth2Payload):  # type: ignore[misc]
    def __init__(self, form: dict[str, list[str]]) -> None:
        self._form = form

    @property
    def data(self) -> dict[str, str]:
        return {k: v[0] for k, v in self._form.items()}

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        return defaultdict(list, self._form)


class OAuthRequest(OAuth2Request):  # type: ignore[misc]
    """A request's parameters, read (async) beforehand: the query of an authorization request,
    the form of a token request or of an approval."""

    def __init__(
        self, uri: str, headers: Headers, form: dict[str, list[str]], method: str = "POST"
    ) -> None:
        super().__init__(method=method, uri=uri, headers=headers)
        self.payload = _FormPayload(form)
        self._form = form

    @property
    def args(self) -> dict[str, str]:
        return {k: v[0] for k, v in self._form.items()} if self.method == "GET" else {}

    @property
    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in self._form.items()}


class _ClientCredentials(ClientCredentialsGrant):  # type: ignore[misc]
    # RFC 6749 §2.3.1: HTTP Basic, or the credentials in the form body
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = ["client_secret_basic", "client_secret_post"]


class OneRequestServer(AuthorizationServer):  # type: ignore[misc]
    """An authorization server that knows the one client this request names (and, exchanging
    a code, the code it already claimed: hub.auth.codes)."""

    def __init__(
        self,
        generator: HubTokenGenerator,
        client: ClientRecord | None,
        claimed: CodeRecord | None = None,
    ) -> None:
        super().__init__()
        self._client = client
        self.claimed = claimed
        self.issued: list[CodeRecord] = []  # codes to store once authlib has made them
        self.register_grant(_ClientCredentials)
        self.register_grant(CodeGrant, [S256Challenge(required=True)])
        self.register_token_generator("default", generator)

    def query_client(self, client_id: str) -> ClientRecord | None:
        if self._client is not None and self._client.client_id == client_id:
            return self._client
        return None

    def create_oauth2_request(self, request: OAuth2Request) -> OAuth2Request:
        return request  # built from the Starlette request already (it needed async reads)

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        """Access tokens are self-contained JWTs: nothing to store."""

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """No signal bus."""

    def handle_response(self, status: int, body: Any, headers: Any) -> Response:
        if isinstance(body, dict):
            body.pop("scope", None)
        return JSONResponse(body, status_code=status, headers=dict(headers))


def oauth_url(request: Request, settings: Settings) -> str:
    """authlib refuses plain http unless the host is loopback; in development we serve on plain
    http on any host, in production mode the real scheme (behind the proxy) counts."""
    return str(request.url if settings.production else request.url.replace(scheme="https"))


def _budget(per_minute: int, workers: int) -> MinuteBudget | None:
    return MinuteBudget(per_minute, workers) if per_minute else None


def _named_client_id(request: Request, form: dict[str, list[str]]) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth[:6].lower() == "basic ":
        try:
            decoded = base64.b64decode(auth[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        return unquote(decoded.partition(":")[0])
    values = form.get("client_id")
    return values[0] if values else None


class TokenEndpoint:
    def __init__(
        self,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        generator: HubTokenGenerator,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.generator = generator
        # per client address: every request (a secret check is a deliberately slow hash, tens
        # of milliseconds of CPU), and failed authentications (guessing) much sooner
        self.requests = _budget(settings.token_rate, settings.workers)
        self.failures = _budget(settings.token_failures, settings.workers)

    async def handle(self, request: Request) -> Response:
        address = request.client.host if request.client else "unknown"
        wait = await self._refusal(address)
        if wait is not None:
            await asyncio.sleep(TARPIT)
            return JSONResponse(
                {
                    "error": "rate_limited",
                    "error_description": f"too many token requests; retry in {wait} s",
                },
                status_code=429,
                headers={"retry-after": str(wait), "cache-control": "no-store"},
            )
        try:
            response = await self._token_response(request)
        except Exception as exc:
            fault = database_fault(exc)
            if fault is None:
                raise
            return JSONResponse(
                {"error": "temporarily_unavailable", "error_description": fault.message},
                status_code=503,
                headers={"retry-after": str(fault.retry_after), "cache-control": "no-store"},
            )
        if response.status_code == 401 and self.failures is not None:
            await self.failures.take(address)
        return response

    async def _refusal(self, address: str) -> int | None:
        if self.failures is not None:
            wait = await self.failures.spent(address)
            if wait is not None:
                return wait
        return None if self.requests is None else await self.requests.take(address)

    async def _token_response(self, request: Request) -> Response:
        async with request.form(max_files=0, max_fields=MAX_FORM_FIELDS) as form:
            fields: dict[str, list[str]] = {}
            for key, value in form.multi_items():
                if isinstance(value, str):
                    fields.setdefault(key, []).append(value)
        client_id = _named_client_id(request, fields)
        record = await self.load_client(client_id) if client_id else None
        claimed = None
        if fields.get("grant_type") == ["authorization_code"] and fields.get("code"):
            claimed = await claim_code(self.sessions, fields["code"][0])
        oauth_request = OAuthRequest(oauth_url(request, self.settings), request.headers, fields)
        server = OneRequestServer(self.generator, record, claimed)
        response: Response = await run_in_threadpool(server.create_token_response, oauth_request)
        response.headers["cache-control"] = "no-store"
        return response

    async def load_client(self, client_id: str) -> ClientRecord | None:
        async with self.sessions() as session:
            found = await DirectoryRepository(session).client_by_client_id(client_id)
        if found is None:
            return None
        client, org = found
        return ClientRecord(
            client_id=client.client_id,
            secret_hash=client.secret_hash,
            org_id=org.id,
            role=org.role,
            revoked=client.revoked_at is not None,
            trusted_only=client.trusted_documents_only,
            public=client.public,
            redirect_uris=tuple(client.redirect_uris),
        )
