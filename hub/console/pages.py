"""The console's pages and actions. Every read and change is a GraphQL operation run as the
signed-in person (HubGraphQL.execute_as): the console can do nothing a client of the API could
not, and every check, transaction and disclosure record is the API's own."""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from hub.accounts.service import Accounts, Person
from hub.config import Settings
from hub.console import queries
from hub.console.checkpoints import CheckpointCheck, check_latest
from hub.console.render import gettext_for, label_for, page, problem_in_words, tell
from hub.console.sessions import (
    clear_session,
    login_csrf,
    principal_of,
    same_origin,
    session_cookie,
    set_login_csrf,
    set_session,
    signed_in,
    tokens_match,
)
from hub.directory.models import Role
from hub.graphql.view import HubGraphQL
from hub.ledger.export import export
from hub.ledger.signing import LedgerKey
from hub.ops.throttle import MinuteBudget

Handler = Callable[[Request, Person], Awaitable[Response]]
SCOPES = ("SUMMARY", "FINDINGS", "IMPROVEMENT_PLAN")
STATUSES = ("PENDING", "IN_PROGRESS", "COMPLETED")
LEDGER_PAGE = 50


class Console:
    def __init__(
        self,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        graphql: HubGraphQL,
        ledger_key: LedgerKey,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.graphql = graphql
        self.ledger_key = ledger_key
        # failed sign-ins per address, as failed client authentications at /oauth/token
        failures = settings.token_failures
        self.failures = MinuteBudget(failures, settings.workers) if failures else None

    def routes(self) -> list[BaseRoute]:
        person = self._person
        return [
            Mount(
                "/console",
                routes=[
                    Route("/", person(self.home)),
                    Route("/login", self.login_page, methods=["GET"]),
                    Route("/login", self.login, methods=["POST"]),
                    Route("/logout", person(self.logout, form=True), methods=["POST"]),
                    Route(
                        "/consents/{id}/{action:str}",
                        person(self.consent_action, form=True, role=Role.FACTORY),
                        methods=["POST"],
                    ),
                    Route("/disclosures", person(self.disclosures, role=Role.FACTORY)),
                    Route("/plan", person(self.plan, role=Role.FACTORY)),
                    Route(
                        "/plan/{id}",
                        person(self.plan_update, form=True, role=Role.FACTORY),
                        methods=["POST"],
                    ),
                    Route("/receipts/{seq:int}", person(self.receipt)),
                    Route("/ledger", person(self.ledger, role=Role.AUDITOR)),
                    Route("/ledger/export", person(self.ledger_export, role=Role.AUDITOR)),
                    Mount("/static", StaticFiles(packages=[("hub.console", "static")])),
                ],
            )
        ]

    # --- the door -------------------------------------------------------------------------

    def _person(
        self, handler: Handler, *, form: bool = False, role: Role | None = None
    ) -> Callable[[Request], Awaitable[Response]]:
        """Signed in (else to the sign-in page), the right role (else 403), and for a form a
        same-origin POST with the session's CSRF token (else 403, nothing done)."""

        async def guarded(request: Request) -> Response:
            person = await signed_in(request, self.settings, self.sessions)
            if person is None:
                return RedirectResponse("/console/login", status_code=303)
            _ = gettext_for(request)
            if role is not None and not _may_see(person.role, role):
                return page(
                    request,
                    "refused.html",
                    403,
                    person=person,
                    text=_("This page is for another kind of organisation."),
                )
            if form:
                fields = await request.form()
                if not same_origin(request) or not tokens_match(
                    person.session.csrf_token, fields.get("csrf")
                ):
                    return page(
                        request,
                        "refused.html",
                        403,
                        person=person,
                        text=_("This form has expired. Go back, reload the page and try again."),
                    )
            return await handler(request, person)

        return guarded

    async def login_page(self, request: Request) -> Response:
        token = login_csrf(request)
        then = _local(request.query_params.get("next"))
        response = page(request, "login.html", csrf=token, email="", then=then)
        set_login_csrf(response, self.settings, token)
        return response

    async def login(self, request: Request) -> Response:
        _ = gettext_for(request)
        fields = await request.form()
        email = str(fields.get("email", ""))[:320]
        token = login_csrf(request)
        if not same_origin(request) or not tokens_match(
            request.cookies.get("hub_login_csrf"), fields.get("csrf")
        ):
            return self._login_again(request, token, email, _("The form expired; try again."))
        address = request.client.host if request.client else "unknown"
        if self.failures is not None and await self.failures.spent(address) is not None:
            return self._login_again(
                request, token, email, _("Too many failed attempts. Wait a minute and try again.")
            )
        async with self.sessions() as session, session.begin():
            signed = await Accounts(session).sign_in(email, str(fields.get("password", "")))
        if signed is None:
            if self.failures is not None:
                await self.failures.take(address)
            return self._login_again(
                request, token, email, _("That email address and password do not match.")
            )
        # always a new session token: a token planted before sign-in is never promoted
        then = _local(str(fields.get("next", "")))
        response = RedirectResponse(then or "/console/", status_code=303)
        set_session(response, self.settings, signed[0])
        response.delete_cookie("hub_login_csrf", path="/console")
        return response

    def _login_again(self, request: Request, token: str, email: str, problem: str) -> Response:
        then = _local(request.query_params.get("next"))
        response = page(
            request, "login.html", 400, csrf=token, email=email, problem=problem, then=then
        )
        set_login_csrf(response, self.settings, token)
        return response

    async def logout(self, request: Request, person: Person) -> Response:
        token = request.cookies.get(session_cookie(self.settings), "")
        async with self.sessions() as session, session.begin():
            await Accounts(session).sign_out(token)
        response = RedirectResponse("/console/login", status_code=303)
        clear_session(response, self.settings)
        return tell(response, "done", gettext_for(request)("You are signed out."))

    # --- running operations -----------------------------------------------------------------

    async def _run(
        self, request: Request, person: Person, query: str, variables: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any] | None, str | None]:
        result, _ = await self.graphql.execute_as(principal_of(person), request, query, variables)
        if result.errors:
            return result.data, problem_in_words(request, result.errors)
        return result.data, None

    # --- factory ----------------------------------------------------------------------------

    async def home(self, request: Request, person: Person) -> Response:
        if person.role in (Role.AUDITOR, Role.ADMIN):
            return RedirectResponse("/console/ledger", status_code=303)
        if person.role is not Role.FACTORY:
            _ = gettext_for(request)
            return page(
                request,
                "refused.html",
                403,
                person=person,
                text=_("The console is for factories and auditors; buyers use the API."),
            )
        data, problem = await self._run(request, person, queries.FACTORY_HOME)
        return page(
            request,
            "factory.html",
            person=person,
            data=data or {},
            problem=problem,
            scopes=SCOPES,
            today=date.today().isoformat(),
        )

    async def consent_action(self, request: Request, person: Person) -> Response:
        _ = gettext_for(request)
        fields = await request.form()
        consent_id = request.path_params["id"]
        action = request.path_params["action"]
        reason = str(fields.get("reason", "")).strip()[:500] or None
        buyer = str(fields.get("buyer_name", ""))[:200]
        if action == "grant":
            scopes = [s for s in fields.getlist("scope") if s in SCOPES]
            if not scopes:
                return tell(_back("/console/"), "problem", _("Choose at least one part to share."))
            expiry = _end_of_day(str(fields.get("expires", "")))
            if expiry is False:
                return tell(_back("/console/"), "problem", _("The expiry date is not a date."))
            variables = {"b": str(fields.get("buyer_id", "")), "s": scopes, "e": expiry}
            done = _("{buyer} can now see: {scopes}.").format(
                buyer=buyer, scopes=", ".join(label_for(request, s) for s in scopes)
            )
            query = queries.GRANT
        elif action in ("decline", "revoke"):
            variables = {"c": consent_id, "r": reason}
            query = queries.DECLINE if action == "decline" else queries.REVOKE
            done = (
                _("You declined the request of {buyer}.")
                if action == "decline"
                else _("{buyer} can no longer see your reports.")
            ).format(buyer=buyer)
        else:
            return PlainTextResponse("unknown action", status_code=404)
        _data, problem = await self._run(request, person, query, variables)
        return tell(_back("/console/"), "problem" if problem else "done", problem or done)

    async def disclosures(self, request: Request, person: Person) -> Response:
        _ = gettext_for(request)
        params = request.query_params
        buyer = params.get("buyer") or None
        since = _start_of_day(params.get("since", ""))
        until = _end_of_day(params.get("until", ""))
        problem = None
        if since is False or until is False:
            problem, since, until = _("A date is not a date (use the calendar)."), None, None
        data, failed = await self._run(
            request,
            person,
            queries.DISCLOSURES,
            {"filter": {"buyerId": buyer, "since": since, "until": until}},
        )
        return page(
            request,
            "disclosures.html",
            person=person,
            data=data or {},
            problem=problem or failed,
            chosen={
                "buyer": buyer,
                "since": params.get("since", ""),
                "until": params.get("until", ""),
            },
        )

    async def plan(self, request: Request, person: Person) -> Response:
        data, problem = await self._run(request, person, queries.PLAN)
        return page(
            request, "plan.html", person=person, data=data or {}, problem=problem, statuses=STATUSES
        )

    async def plan_update(self, request: Request, person: Person) -> Response:
        _ = gettext_for(request)
        status = str((await request.form()).get("status", ""))
        if status not in STATUSES:
            return tell(_back("/console/plan"), "problem", _("Choose a status."))
        _data, problem = await self._run(
            request, person, queries.PLAN_UPDATE, {"id": request.path_params["id"], "s": status}
        )
        done = _("The action is now: {status}.").format(status=label_for(request, status))
        return tell(_back("/console/plan"), "problem" if problem else "done", problem or done)

    async def receipt(self, request: Request, person: Person) -> Response:
        seq = request.path_params["seq"]
        data, problem = await self._run(request, person, queries.RECEIPT, {"seq": seq})
        if problem or not data:
            return page(request, "refused.html", 404, person=person, text=problem)
        return PlainTextResponse(
            data["consentReceipt"],
            headers={
                "content-disposition": f'attachment; filename="consent-receipt-{seq}.txt"',
                "cache-control": "no-store",
            },
        )

    # --- auditor ----------------------------------------------------------------------------

    async def ledger(self, request: Request, person: Person) -> Response:
        params = request.query_params
        after = _int(params.get("after"), 0)
        factory = params.get("factory", "").strip()
        buyer = params.get("buyer", "").strip()
        factory_id = await self._factory_id(request, person, factory) if factory else None
        data, problem = await self._run(
            request,
            person,
            queries.LEDGER,
            {
                "after": after,
                "first": LEDGER_PAGE,
                "f": factory_id if factory else None,
                "b": buyer or None,
            },
        )
        check: CheckpointCheck | None = None
        if data and not problem:
            check = await check_latest(self._runner(request, person), self.ledger_key.verifier)
        return page(
            request,
            "ledger.html",
            person=person,
            data=data or {},
            problem=problem,
            check=check,
            chosen={"factory": factory, "buyer": buyer, "after": after},
        )

    def _runner(
        self, request: Request, person: Person
    ) -> Callable[
        [str, dict[str, Any] | None], Awaitable[tuple[dict[str, Any] | None, str | None]]
    ]:
        async def run(query: str, variables: dict[str, Any] | None) -> Any:
            return await self._run(request, person, query, variables)

        return run

    async def _factory_id(self, request: Request, person: Person, text: str) -> str:
        """A factory id as typed, or the first factory whose name contains the text."""
        if len(text) == 36 and text.count("-") == 4:
            return text
        data, _problem = await self._run(request, person, queries.FACTORY_BY_NAME, {"n": text})
        edges = (data or {}).get("factories", {}).get("edges", [])
        # no such factory: an id that matches nothing, so the page says "no events"
        return str(edges[0]["node"]["id"]) if edges else "00000000-0000-0000-0000-000000000000"

    async def ledger_export(self, request: Request, person: Person) -> Response:
        """The file `hub ledger verify` checks (the same export as `hub ledger export`)."""
        buffer = io.StringIO()
        async with self.sessions() as session, session.begin():
            await export(session, buffer, self.settings.ledger_origin)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        return Response(
            buffer.getvalue(),
            media_type="application/x-ndjson",
            headers={
                "content-disposition": f'attachment; filename="consent-ledger-{stamp}.jsonl"',
                "cache-control": "no-store",
            },
        )


def _may_see(role: Role, page_role: Role) -> bool:
    if page_role is Role.AUDITOR:
        return role in (Role.AUDITOR, Role.ADMIN)
    return role is page_role


def _local(then: str | None) -> str | None:
    """Where to go after signing in: only a path of this hub's own (no open redirect)."""
    if then and then.startswith(("/console/", "/oauth/authorize")) and "\\" not in then:
        return then
    return None


def _back(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _int(value: str | None, default: int) -> int:
    try:
        return max(0, int(value or default))
    except ValueError:
        return default


def _parse_day(value: str) -> date | bool | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return False


def _start_of_day(value: str) -> str | bool | None:
    day = _parse_day(value)
    if not isinstance(day, date):
        return day
    return datetime.combine(day, time.min, UTC).isoformat()


def _end_of_day(value: str) -> str | bool | None:
    day = _parse_day(value)
    if not isinstance(day, date):
        return day
    return datetime.combine(day, time.max, UTC).isoformat()
