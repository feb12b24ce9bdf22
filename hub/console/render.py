"""Pages from Jinja2 templates, in the reader's language, with the one-time notice of the last
action; and GraphQL errors told in words a factory manager understands."""

from __future__ import annotations

import json
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from hub.console.i18n import LABELS, negotiate, translations

ENV = Environment(
    loader=PackageLoader("hub.console", "templates"),
    autoescape=select_autoescape(["html"]),
    extensions=["jinja2.ext.i18n"],
    enable_async=False,
)
ENV.install_null_translations(newstyle=True)  # type: ignore[attr-defined]

NOTICE_COOKIE = "hub_notice"
# no page of ours may be framed (clickjacking a Revoke or Grant button), load anything from
# elsewhere, or be kept in a shared cache. No form-action limit: the authorization page's answer
# is a redirect to the tool's registered address, which browsers would check against it.
PAGE_HEADERS = {
    "cache-control": "no-store",
    "content-security-policy": "default-src 'self'; frame-ancestors 'none'; base-uri 'none'",
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}


def gettext_for(request: Request) -> Any:
    return translations(negotiate(request.headers.get("accept-language"))).gettext


def label_for(request: Request, code: str) -> str:
    return str(gettext_for(request)(LABELS.get(code) or code))


def page(request: Request, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    language = negotiate(request.headers.get("accept-language"))
    _ = translations(language).gettext
    notice = _notice(request)
    html = ENV.get_template(template).render(
        _=_, label=lambda code: _(LABELS.get(code) or code), lang=language, notice=notice, **values
    )
    response = HTMLResponse(html, status_code=status)
    if notice:
        response.delete_cookie(NOTICE_COOKIE, path="/console")
    response.headers.update(PAGE_HEADERS)
    return response


def tell(response: Response, kind: str, text: str) -> Response:
    """Show ``text`` once, on the page the response redirects to (kind: done or problem)."""
    response.set_cookie(
        NOTICE_COOKIE,
        json.dumps({"kind": kind, "text": text}),
        max_age=60,
        path="/console",
        httponly=True,
        samesite="strict",
    )
    return response


def _notice(request: Request) -> dict[str, str] | None:
    raw = request.cookies.get(NOTICE_COOKIE)
    if not raw:
        return None
    try:
        found = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(found, dict) or found.get("kind") not in ("done", "problem"):
        return None
    return {"kind": str(found["kind"]), "text": str(found.get("text", ""))[:500]}


def problem_in_words(request: Request, errors: list[Any]) -> str:
    """The first error of an answer, for a person rather than a program."""
    _ = gettext_for(request)
    error = errors[0]
    extensions = error.extensions or {}
    code = extensions.get("code")
    if code == "FORBIDDEN":
        return str(_("You are not allowed to do that."))
    if code == "NOT_FOUND":
        return str(_("We could not find that. It may have been withdrawn, or it is not yours."))
    if code == "RATE_LIMITED":
        return str(_("Too many actions in a short time. Please wait a minute and try again."))
    if code in ("BAD_USER_INPUT", "CONFLICT"):
        return str(_("That did not work: {detail}")).format(detail=error.message)
    if extensions.get("reason"):  # a database fault: its message already says what to do
        return str(error.message)
    return str(_("Something went wrong on our side. Nothing was changed. Reference: {ref}")).format(
        ref=extensions.get("requestId", "-")
    )
