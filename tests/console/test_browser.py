"""The console in a real headless Chromium (Debian's, driven by Playwright), against a live
`hub serve`: a factory manager grants, sees and revokes; an auditor checks the ledger. Each main
page is saved as a screenshot under build/screenshots/ for review."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright, expect
from sqlalchemy.ext.asyncio import AsyncSession

from hub.directory.models import Role
from tests.console.helpers import PASSWORD, make_person
from tests.console.test_console import READ, request_access
from tests.e2e.servers import hub_server
from tests.helpers import Actors, gql, grant, make_published_assessment, revoke

CHROMIUM = shutil.which("chromium")
SHOTS = Path(__file__).parents[2] / "build" / "screenshots"


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium; .ci/run does)")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox"],  # CI runs as root
        )
        yield launched
        await launched.close()


async def sign_in(browser: Browser, base: str, email: str) -> Page:
    page = await browser.new_page(base_url=base, viewport={"width": 1100, "height": 900})
    await page.goto("/console/login")
    await page.get_by_label("Email address").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    return page


# the contrast ratio (WCAG 2.x) of each element's text against the first opaque background
# behind it; returns the lowest found, with the element
CONTRAST = """
(selector) => {
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const behind = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0.99)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  let worst = [99, ""];
  for (const el of document.querySelectorAll(selector)) {
    if (!el.textContent.trim() || el.offsetParent === null) continue;
    const a = lum(rgb(getComputedStyle(el).color).slice(0, 3)), b = lum(behind(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < worst[0]) worst = [ratio, el.outerHTML.slice(0, 80)];
  }
  return worst;
}
"""
TEXT = "h1, h2, h3, p, a, button, label, td, th, small, .tag, .notice, .count, caption, span"


async def lowest_contrast(page: Page) -> tuple[float, str]:
    ratio, element = await page.evaluate(CONTRAST, TEXT)
    print(f"lowest contrast on {page.url}: {ratio:.2f} at {element}")
    return float(ratio), str(element)


async def sign_in_by_keyboard(browser: Browser, base: str, email: str) -> Page:
    """No mouse: Tab from the top of the page to the fields, Enter to send."""
    page = await browser.new_page(base_url=base, viewport={"width": 1100, "height": 900})
    await page.goto("/console/login")
    await page.keyboard.press("Tab")  # the skip link comes first
    focused = await page.evaluate("document.activeElement.textContent")
    assert "Skip to content" in focused
    while await page.evaluate("document.activeElement.id") != "email":
        await page.keyboard.press("Tab")
    await page.keyboard.type(email)
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.id") == "password"
    await page.keyboard.type(PASSWORD)
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/console/ledger")
    return page


async def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


async def test_a_factory_manager_and_an_auditor_in_a_browser(
    browser: Browser,
    database_url: str,
    key_file: Path,
    http: httpx.AsyncClient,
    actors: Actors,
    session: AsyncSession,
) -> None:
    factory, buyer = actors[Role.FACTORY], actors[Role.BUYER]
    assert factory.factory is not None
    await make_published_assessment(
        http,
        actors[Role.ASSESSOR],
        factory.factory,
        noncompliant={"OSH.EMR.01"},
        plan=[{"questionCode": "OSH.EMR.01", "action": "Mark the emergency exits"}],
    )
    # the buyer's earlier view, under an earlier grant; then it asks again
    earlier = await grant(http, factory, buyer, ["SUMMARY", "FINDINGS"])
    await gql(http, READ, {"f": str(factory.factory.id)}, actor=buyer)
    await revoke(http, factory, earlier["id"])
    await request_access(http, buyer, factory)
    manager = await make_person(session, factory.org, "manager@angkor-garment.example")
    auditor = await make_person(session, actors[Role.AUDITOR].org, "auditor@example.org")

    async with hub_server(database_url, key_file, HUB_CHECKPOINT_INTERVAL="1") as (base, _):
        page = await sign_in(browser, base, manager)
        await expect(page.get_by_role("heading", name="Requests for access")).to_be_visible()
        request = page.get_by_role("article", name=f"Request from {buyer.org.name}")
        await expect(request).to_contain_text("For our 2027 sourcing")
        await shot(page, "factory-requests")
        await request.get_by_label("Until (optional)").fill("2099-12-31")
        await request.get_by_role("button", name="Grant").click()
        await expect(page.get_by_role("status")).to_contain_text("can now see")
        granted = page.get_by_role("article", name=f"Grant to {buyer.org.name}")
        await expect(granted).to_contain_text("until 2099-12-31")
        await shot(page, "factory-view")
        ratio, element = await lowest_contrast(page)
        assert 4.5 <= ratio < 99, f"contrast {ratio:.2f} (WCAG AA: 4.5) at {element}"
        await page.set_viewport_size({"width": 390, "height": 844})  # a phone
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, "the page scrolls sideways on a phone"
        await shot(page, "factory-view-phone")
        await page.set_viewport_size({"width": 1100, "height": 900})

        await granted.get_by_label("Reason (optional)").fill("contract ended")
        await granted.get_by_role("button", name="Revoke").click()
        await expect(page.get_by_role("status")).to_contain_text("can no longer see")
        await expect(page.get_by_text("No buyer can see your reports now.")).to_be_visible()

        await page.get_by_role("link", name="Who has seen our reports").click()
        await expect(page.get_by_role("cell", name=buyer.org.name).first).to_be_visible()
        await expect(page.get_by_role("cell", name="Findings").first).to_be_visible()
        await shot(page, "factory-disclosures")
        await page.get_by_role("link", name="Improvement plan").click()
        await expect(page.get_by_text("Mark the emergency exits")).to_be_visible()
        await shot(page, "factory-plan")
        await page.close()

        await asyncio.sleep(1.5)  # the integrator signs a checkpoint over the new events
        page = await sign_in_by_keyboard(browser, base, auditor)
        await expect(page.get_by_role("heading", name="Consent ledger")).to_be_visible()
        await expect(page.locator(".verdict")).to_contain_text("Verified")
        ratio, element = await lowest_contrast(page)
        assert 4.5 <= ratio < 99, f"contrast {ratio:.2f} (WCAG AA: 4.5) at {element}"
        for event in ("Requested", "Granted", "Revoked"):
            await expect(page.get_by_role("cell", name=event).first).to_be_visible()
        async with page.expect_download() as download:
            await page.get_by_role("link", name="Export").click()
        assert (await download.value).suggested_filename.startswith("consent-ledger-")
        await shot(page, "auditor-ledger")
        await page.close()
