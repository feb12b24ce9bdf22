"""The console over HTTP: signing in, a factory answering requests, an auditor reading the
ledger; and from the attacker's side: CSRF, session fixation, another factory's URLs."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette

from hub.consent.models import Consent, ConsentStatus
from hub.directory.models import Role
from hub.ledger.tasks import integrate_once
from tests.console.helpers import csrf_of, home_csrf, make_person, sign_in
from tests.helpers import (
    Actor,
    Actors,
    gql,
    grant,
    make_actor,
    make_published_assessment,
    run_hub,
)

REQUEST = "mutation($f: ID!, $m: String) { requestAccess(factoryId: $f, scopes: [SUMMARY, FINDINGS], message: $m) { id } }"
READ = "query($f: ID!) { factory(id: $f) { latestAssessment { findings { questionCode } } } }"


def console_client(app: Starlette) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url="http://hub.test", follow_redirects=True)


async def request_access(http: httpx.AsyncClient, buyer: Actor, factory: Actor) -> str:
    assert factory.factory is not None
    body = await gql(
        http, REQUEST, {"f": str(factory.factory.id), "m": "For our 2027 sourcing"}, actor=buyer
    )
    assert "errors" not in body, body
    return str(body["data"]["requestAccess"]["id"])


async def status_of(session: AsyncSession, consent_id: str) -> ConsentStatus:
    found = await session.scalar(select(Consent.status).where(Consent.id == consent_id))
    assert found is not None
    return found


async def test_a_factory_manager_answers_a_request(
    app: Starlette, http: httpx.AsyncClient, actors: Actors, session: AsyncSession
) -> None:
    factory, buyer = actors[Role.FACTORY], actors[Role.BUYER]
    consent = await request_access(http, buyer, factory)
    email = await make_person(session, factory.org)
    async with console_client(app) as browser:
        signed = await sign_in(browser, email)
        assert signed.url.path == "/console/"
        assert "frame-ancestors 'none'" in signed.headers["content-security-policy"]
        assert signed.headers["x-frame-options"] == "DENY"
        page = signed.text
        assert buyer.org.name in page
        assert "For our 2027 sourcing" in page
        assert ">Grant<" in page
        assert ">Decline<" in page
        csrf = csrf_of(page)
        granted = await browser.post(
            f"/console/consents/{consent}/grant",
            data={
                "csrf": csrf,
                "buyer_id": str(buyer.org.id),
                "buyer_name": buyer.org.name,
                "scope": ["SUMMARY", "FINDINGS"],
                "expires": "2099-12-31",
            },
        )
        assert "can now see" in granted.text
        assert "until 2099-12-31" in granted.text
        assert await status_of(session, consent) is ConsentStatus.GRANTED

        # the buyer reads the report; the factory sees who did
        assert factory.factory is not None
        await make_published_assessment(http, actors[Role.ASSESSOR], factory.factory)
        read = await gql(http, READ, {"f": str(factory.factory.id)}, actor=buyer)
        assert read["data"]["factory"]["latestAssessment"]["findings"] is not None
        seen = await browser.get("/console/disclosures")
        assert buyer.org.name in seen.text
        assert "Findings" in seen.text
        receipt_link = re.search(r'href="(/console/receipts/\d+)"', seen.text)
        assert receipt_link
        # a receipt proves inclusion under a signed checkpoint: one is signed every few seconds
        await integrate_once(
            app.state.sessions, app.state.ledger_key, app.state.settings.ledger_origin
        )
        receipt = await browser.get(receipt_link.group(1))
        assert receipt.status_code == 200
        assert "attachment" in receipt.headers["content-disposition"]

        revoked = await browser.post(
            f"/console/consents/{consent}/revoke",
            data={"csrf": csrf, "buyer_name": buyer.org.name, "reason": "contract ended"},
        )
        assert "can no longer see your reports" in revoked.text
        assert await status_of(session, consent) is ConsentStatus.REVOKED
        # the history keeps the answer, with a receipt of the revocation itself
        assert "<td>Revoked <small>(contract ended)</small></td>" in revoked.text
        revocation = await session.scalar(select(Consent.ledger_seq).where(Consent.id == consent))
        await integrate_once(
            app.state.sessions, app.state.ledger_key, app.state.settings.ledger_origin
        )
        assert f'href="/console/receipts/{revocation}"' in revoked.text
        proof = await browser.get(f"/console/receipts/{revocation}")
        assert proof.status_code == 200
        assert f"seq {revocation}\n" in proof.text


async def test_declining_and_the_improvement_plan(
    app: Starlette, http: httpx.AsyncClient, actors: Actors, session: AsyncSession
) -> None:
    factory, buyer = actors[Role.FACTORY], actors[Role.BUYER]
    assert factory.factory is not None
    consent = await request_access(http, buyer, factory)
    await make_published_assessment(
        http,
        actors[Role.ASSESSOR],
        factory.factory,
        noncompliant={"OSH.EMR.01"},
        plan=[{"questionCode": "OSH.EMR.01", "action": "Mark the emergency exits"}],
    )
    email = await make_person(session, factory.org)
    async with console_client(app) as browser:
        await sign_in(browser, email)
        csrf = await home_csrf(browser)
        declined = await browser.post(
            f"/console/consents/{consent}/decline",
            data={"csrf": csrf, "buyer_name": buyer.org.name, "reason": "not a customer"},
        )
        assert "You declined the request" in declined.text
        assert await status_of(session, consent) is ConsentStatus.DECLINED
        plan = await browser.get("/console/plan")
        assert "Mark the emergency exits" in plan.text
        action = re.search(r'action="(/console/plan/[^"]+)"', plan.text)
        assert action
        updated = await browser.post(action.group(1), data={"csrf": csrf, "status": "COMPLETED"})
        assert "The action is now: Completed" in updated.text


async def test_an_auditor_reads_the_ledger_and_exports_it(
    app: Starlette, http: httpx.AsyncClient, actors: Actors, session: AsyncSession, tmp_path: Path
) -> None:
    factory, buyer = actors[Role.FACTORY], actors[Role.BUYER]
    first = await grant(http, factory, buyer, ["SUMMARY"])
    await integrate_once(app.state.sessions, app.state.ledger_key, app.state.settings.ledger_origin)
    await grant(http, factory, buyer, ["SUMMARY", "FINDINGS"])
    await integrate_once(app.state.sessions, app.state.ledger_key, app.state.settings.ledger_origin)
    email = await make_person(session, actors[Role.AUDITOR].org)
    async with console_client(app) as browser:
        ledger = await sign_in(browser, email)
        assert ledger.url.path == "/console/ledger"
        assert "Verified" in ledger.text
        assert "consistency proof verified" in ledger.text
        assert f"<td>{first['ledgerSeq']}</td>" in ledger.text
        searched = await browser.get("/console/ledger", params={"factory": factory.org.name})
        assert "<td>Granted</td>" in searched.text
        nothing = await browser.get("/console/ledger", params={"factory": "No Such Mill"})
        assert "No events." in nothing.text
        exported = await browser.get("/console/ledger/export")
        assert exported.status_code == 200
    path = tmp_path / "ledger.jsonl"
    path.write_bytes(exported.content)
    key = app.state.ledger_key.verifier_key
    checked = run_hub(app.state.settings, "ledger", "verify", str(path), "--public-key", key)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.startswith("OK: ")


async def test_a_wrong_password_and_the_way_out(
    app: Starlette, actors: Actors, session: AsyncSession
) -> None:
    email = await make_person(session, actors[Role.FACTORY].org)
    async with console_client(app) as browser:
        wrong = await sign_in(browser, email, "not the password at all")
        assert wrong.status_code == 400
        assert "do not match" in wrong.text
        assert (await browser.get("/console/")).url.path == "/console/login"
        await sign_in(browser, email)
        out = await browser.post("/console/logout", data={"csrf": await home_csrf(browser)})
        assert "You are signed out" in out.text
        assert (await browser.get("/console/")).url.path == "/console/login"


# --- the attacker's side ----------------------------------------------------------------------


async def test_forms_without_the_token_or_from_elsewhere_do_nothing(
    app: Starlette, http: httpx.AsyncClient, actors: Actors, session: AsyncSession
) -> None:
    factory, buyer = actors[Role.FACTORY], actors[Role.BUYER]
    consent = await grant(http, factory, buyer, ["SUMMARY"])
    email = await make_person(session, factory.org)
    async with console_client(app) as browser:
        await sign_in(browser, email)
        csrf = await home_csrf(browser)
        url = f"/console/consents/{consent['id']}/revoke"
        for data, headers in (
            ({}, {}),
            ({"csrf": "forged"}, {}),
            ({"csrf": csrf}, {"origin": "https://evil.example"}),
        ):
            refused = await browser.post(url, data=data, headers=headers)
            assert refused.status_code == 403
            assert await status_of(session, consent["id"]) is ConsentStatus.GRANTED
        # a sign-in form posted from elsewhere, or without its token, signs nobody in
        login = await browser.post("/console/login", data={"email": email, "password": "x" * 20})
        assert login.status_code == 400
        assert "expired" in login.text


async def test_a_planted_session_token_is_never_promoted(
    app: Starlette, actors: Actors, session: AsyncSession
) -> None:
    email = await make_person(session, actors[Role.FACTORY].org)
    async with console_client(app) as browser:
        browser.cookies.set("hub_console", "planted-by-the-attacker", domain="hub.test")
        await sign_in(browser, email)
        issued = [c.value for c in browser.cookies.jar if c.name == "hub_console"]
        assert issued
        assert "planted-by-the-attacker" not in issued
    async with console_client(app) as attacker:
        attacker.cookies.set("hub_console", "planted-by-the-attacker", domain="hub.test")
        assert (await attacker.get("/console/")).url.path == "/console/login"


async def test_another_factorys_urls_give_nothing(
    app: Starlette, http: httpx.AsyncClient, actors: Actors, session: AsyncSession
) -> None:
    mine, buyer = actors[Role.FACTORY], actors[Role.BUYER]
    theirs = await make_actor(session, http, Role.FACTORY)
    their_grant = await grant(http, theirs, buyer, ["SUMMARY", "FINDINGS"])
    email = await make_person(session, mine.org)
    async with console_client(app) as browser:
        await sign_in(browser, email)
        csrf = await home_csrf(browser)
        home = await browser.get("/console/")
        assert buyer.org.name not in home.text  # their grant to this buyer is not on my page
        revoke = await browser.post(
            f"/console/consents/{their_grant['id']}/revoke",
            data={"csrf": csrf, "buyer_name": buyer.org.name},
        )
        assert "could not find that" in revoke.text
        assert await status_of(session, their_grant["id"]) is ConsentStatus.GRANTED
        receipt = await browser.get(f"/console/receipts/{their_grant['ledgerSeq']}")
        assert receipt.status_code == 404
        assert "consent" not in receipt.headers.get("content-disposition", "")
        assert (await browser.get("/console/ledger")).status_code == 403
        assert (await browser.get("/console/ledger/export")).status_code == 403
    auditor_email = await make_person(session, actors[Role.AUDITOR].org)
    async with console_client(app) as browser:
        await sign_in(browser, auditor_email)
        assert (await browser.get("/console/plan")).status_code == 403
    buyer_email = await make_person(session, buyer.org)
    async with console_client(app) as browser:
        await sign_in(browser, buyer_email)
        refused = await browser.get("/console/")
        assert refused.status_code == 403
        assert "buyers use the API" in refused.text


async def test_the_demo_prints_console_logins_that_work(app: Starlette) -> None:
    done = await asyncio.to_thread(run_hub, app.state.settings, "demo", "--no-serve")
    assert done.returncode == 0, done.stderr
    printed = done.stdout
    assert "console:   http://127.0.0.1:8000/console/" in printed
    logins = dict(re.findall(r"(\S+@demo\.compliance-hub\.example)  password: (\S+)", printed))
    assert len(logins) == 2
    for email, password in logins.items():
        async with console_client(app) as browser:
            signed = await sign_in(browser, email, password)
            assert signed.status_code == 200
            assert signed.url.path in ("/console/", "/console/ledger")
