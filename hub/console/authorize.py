"""`/oauth/authorize`: a person's tool asks to act as the person (authorization code with
PKCE, S256). The person signs in to the console if they have not, sees which tool asks and for
which organisation, and allows or denies; authlib checks the request and makes the code
(hub.auth.codes). An invalid request is shown, never redirected: only a client's registered
redirect URI ever receives anything."""

from __future__ import annotations

from urllib.parse import urlencode

from authlib.oauth2 import OAuth2Error
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from hub.accounts.service import Person
from hub.auth.codes import Owner, store_codes
from hub.auth.server import OAuthRequest, OneRequestServer, TokenEndpoint, oauth_url
from hub.auth.tokens import HubTokenGenerator
from hub.config import Settings
from hub.console.render import gettext_for, page
from hub.console.sessions import same_origin, signed_in, tokens_match

# the parameters of an authorization request that the approval form carries back
PARAMETERS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "state",
    "code_challenge",
    "code_challenge_method",
    "scope",
)


class AuthorizeEndpoint:
    def __init__(
        self,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        generator: HubTokenGenerator,
        tokens: TokenEndpoint,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.generator = generator
        self.tokens = tokens

    async def handle(self, request: Request) -> Response:
        person = await signed_in(request, self.settings, self.sessions)
        if person is None:
            here = request.url.path + ("?" + request.url.query if request.url.query else "")
            return RedirectResponse("/console/login?" + urlencode({"next": here}), status_code=303)
        _ = gettext_for(request)
        if request.method == "POST":
            fields = await request.form()
            if not same_origin(request) or not tokens_match(
                person.session.csrf_token, fields.get("csrf")
            ):
                return self._invalid(request, person, _("This form has expired; start again."))
            params = {k: [str(fields[k])] for k in PARAMETERS if fields.get(k)}
        else:
            params = {k: request.query_params.getlist(k) for k in request.query_params}
        client_id = (params.get("client_id") or [""])[0]
        client = await self.tokens.load_client(client_id) if client_id else None
        server = OneRequestServer(self.generator, client)
        oauth_request = OAuthRequest(
            oauth_url(request, self.settings), request.headers, params, method=request.method
        )
        owner = Owner(person.user.id, person.org.id, person.role)
        try:
            grant = server.get_consent_grant(oauth_request, end_user=owner)
        except OAuth2Error as error:
            return self._invalid(request, person, error.description or error.error)
        if not params.get("code_challenge"):
            return self._invalid(request, person, _("The tool must use PKCE (code_challenge)."))
        if request.method == "GET":
            assert client is not None
            return page(
                request,
                "authorize.html",
                person=person,
                client=client,
                carried={k: params[k][0] for k in PARAMETERS if params.get(k)},
            )
        allowed = (await request.form()).get("decision") == "allow"
        response: Response = await run_in_threadpool(
            server.create_authorization_response, oauth_request, owner if allowed else None, grant
        )
        if server.issued:
            await store_codes(self.sessions, server.issued)
        return response

    def _invalid(self, request: Request, person: Person, why: str) -> Response:
        _ = gettext_for(request)
        text = str(_("This sign-in link is not valid: {why}")).format(why=why)
        return page(request, "refused.html", 400, person=person, text=text)
