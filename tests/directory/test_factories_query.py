"""The factory directory over GraphQL: paging, filters, lookups and bad input."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from hub.directory.models import Factory, Role
from tests.helpers import Actors, error_codes, gql, make_factories

PAGE = """
query Page($first: Int, $after: String, $filter: FactoryFilter) {
  factories(first: $first, after: $after, filter: $filter) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id hubId name country } }
  }
}
"""


@pytest.fixture
async def directory(session: AsyncSession, actors: Actors) -> list[Factory]:
    """The FACTORY actor's own profile first, then 25 more."""
    own = actors[Role.FACTORY].factory
    assert own is not None
    specs = [(f"Garment Works {i:02d}", ["KH", "VN", "BD"][i % 3]) for i in range(23)]
    specs += [("100% Cotton_Mill", "BD"), ("Cotton Mill", "BD")]
    return [own, *await make_factories(session, specs)]


async def _all_pages(
    http: httpx.AsyncClient, actors: Actors, first: int, **filters: Any
) -> list[list[str]]:
    pages: list[list[str]] = []
    after = None
    while True:
        body = await gql(
            http,
            PAGE,
            {"first": first, "after": after, "filter": filters or None},
            actor=actors[Role.BUYER],
        )
        assert "errors" not in body, body
        conn = body["data"]["factories"]
        pages.append([e["node"]["name"] for e in conn["edges"]])
        if not conn["pageInfo"]["hasNextPage"]:
            return pages
        after = conn["pageInfo"]["endCursor"]
        assert after == conn["edges"][-1]["cursor"]


async def test_paging_has_no_duplicates_or_gaps(
    http, actors: Actors, directory: list[Factory]
) -> None:
    pages = await _all_pages(http, actors, first=7)
    assert [len(p) for p in pages] == [7, 7, 7, 5]
    names = [n for page in pages for n in page]
    assert names == [f.name for f in directory]  # creation order, each exactly once


async def test_total_count_and_last_page(http, actors: Actors, directory: list[Factory]) -> None:
    body = await gql(http, PAGE, {"first": 100}, actor=actors[Role.BUYER])
    conn = body["data"]["factories"]
    assert conn["totalCount"] == len(directory)
    assert conn["pageInfo"]["hasNextPage"] is False


async def test_rows_added_while_paging_are_not_skipped(
    http, actors: Actors, directory: list[Factory], session: AsyncSession
) -> None:
    body = await gql(http, PAGE, {"first": 10}, actor=actors[Role.BUYER])
    cursor = body["data"]["factories"]["pageInfo"]["endCursor"]
    await make_factories(session, [("Late Arrival Ltd", "KH")])
    rest = await gql(http, PAGE, {"first": 100, "after": cursor}, actor=actors[Role.BUYER])
    names = [e["node"]["name"] for e in rest["data"]["factories"]["edges"]]
    assert names[0] == directory[10].name
    assert names[-1] == "Late Arrival Ltd"


async def test_filter_by_country(http, actors: Actors, directory: list[Factory]) -> None:
    pages = await _all_pages(http, actors, first=3, country="vn")
    names = [n for p in pages for n in p]
    assert names == [f.name for f in directory if f.country == "VN"]


async def test_filter_by_name_treats_wildcards_literally(
    http, actors: Actors, directory: list[Factory]
) -> None:
    pages = await _all_pages(http, actors, first=50, nameContains="0% cotton_")
    assert pages == [["100% Cotton_Mill"]]
    pages = await _all_pages(http, actors, first=50, nameContains="cotton mill")
    assert pages == [["Cotton Mill"]]


@pytest.mark.parametrize("first", [0, -1, 101, 10_000])
async def test_first_out_of_range(http, actors: Actors, first: int) -> None:
    body = await gql(http, PAGE, {"first": first}, actor=actors[Role.BUYER])
    assert body["data"] is None
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert "first must be between 1 and 100" in body["errors"][0]["message"]


@pytest.mark.parametrize(
    "cursor",
    [
        "not a cursor",
        "%%%",
        base64.urlsafe_b64encode(b"<i:3").decode(),  # a backwards bookmark
        base64.urlsafe_b64encode(b">s:x~s:y~s:z").decode(),  # keys of another list
        base64.urlsafe_b64encode(b">i:1; DROP TABLE factories").decode(),
    ],
)
async def test_malformed_cursor(
    http, actors: Actors, directory: list[Factory], cursor: str
) -> None:
    body = await gql(http, PAGE, {"first": 5, "after": cursor}, actor=actors[Role.BUYER])
    assert error_codes(body) == ["BAD_USER_INPUT"], body
    assert "after" in body["errors"][0]["message"]


async def test_unknown_country_filter(http, actors: Actors) -> None:
    body = await gql(http, PAGE, {"filter": {"country": "XX"}}, actor=actors[Role.BUYER])
    assert error_codes(body) == ["BAD_USER_INPUT"]


async def test_factory_by_id_and_hub_id(http, actors: Actors, directory: list[Factory]) -> None:
    target = directory[4]
    query = "query($id: ID!) { factory(id: $id) { id hubId name country } }"
    for ref in (str(target.id), target.hub_id, target.hub_id.lower()):
        body = await gql(http, query, {"id": ref}, actor=actors[Role.FACTORY])
        assert body["data"]["factory"] == {
            "id": str(target.id),
            "hubId": target.hub_id,
            "name": target.name,
            "country": target.country,
        }


@pytest.mark.parametrize("ref", ["00000000-0000-0000-0000-000000000000", "CH-NOPE0000", "'; --"])
async def test_unknown_factory_is_not_found(http, actors: Actors, ref: str) -> None:
    body = await gql(
        http, "query($id: ID!) { factory(id: $id) { id } }", {"id": ref}, actor=actors[Role.BUYER]
    )
    assert body["data"] == {"factory": None}
    assert error_codes(body) == ["NOT_FOUND"]


async def test_every_role_reads_the_directory(
    http, actors: Actors, directory: list[Factory]
) -> None:
    for role in Role:
        body = await gql(http, "{ factories(first: 1) { totalCount } }", actor=actors[role])
        assert body["data"]["factories"]["totalCount"] == len(directory)
