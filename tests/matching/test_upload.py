"""uploadSupplierList and resolveSupplierMatch over GraphQL: outcomes, idempotent re-uploads,
remembered decisions, and bad input that writes nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.directory.models import Factory, Role
from hub.directory.service import DirectoryService, NewFactory
from tests.helpers import Actors, error_codes, gql

UPLOAD = """
mutation($records: [SupplierRecordInput!]!) {
  uploadSupplierList(records: $records) {
    received matched created needsReview disappeared
    records { buyerRef outcome confidence factory { id name } candidates { id name }
              components { name address identifier reasons candidateScores note } }
  }
}
"""
RESOLVE = """
mutation($ref: String!, $f: ID, $new: Boolean) {
  resolveSupplierMatch(buyerRef: $ref, factoryId: $f, createNew: $new) { buyerRef outcome factory { id name } }
}
"""


@pytest.fixture
async def directory(session: AsyncSession) -> dict[str, Factory]:
    service = DirectoryService(session)
    made = {
        "angkor": await service.create_factory(
            NewFactory("Angkor Garment Co., Ltd.", "KH", "Street 598, Phnom Penh", os_id="KH-OS-1")
        ),
        "mekong": await service.create_factory(
            NewFactory("Mekong Knitwear", "KH", "National Road 4, Kandal")
        ),
        "mekong2": await service.create_factory(
            NewFactory("Mekong Knitwear Factory 2", "KH", "Road 6, Siem Reap")
        ),
        # the same name in another town: a record without an address cannot tell these apart
        "mekong_kampot": await service.create_factory(
            NewFactory("Mekong Knitwear", "KH", "Road 9, Kampot")
        ),
        "dhaka": await service.create_factory(
            NewFactory(
                "Dhaka Denim Ltd", "BD", "Ashulia, Savar, Dhaka", registration_number="C-45213"
            )
        ),
    }
    await session.commit()
    return made


def rec(
    ref: str, name: str, country: str, address: str | None = None, **extra: Any
) -> dict[str, Any]:
    return {"buyerRef": ref, "name": name, "country": country, "address": address, **extra}


async def upload(
    http: httpx.AsyncClient, actors: Actors, records: list[dict[str, Any]]
) -> dict[str, Any]:
    body = await gql(http, UPLOAD, {"records": records}, actor=actors[Role.BUYER])
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["uploadSupplierList"]
    return result


def by_ref(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["buyerRef"]: r for r in result["records"]}


LIST = [
    rec("S-1", "ANGKOR GARMENTS COMPANY LIMITED", "kh", "St 598, Phnom Penh"),
    rec("S-2", "Totally Unknown Weaving", "KH", "Road 1, Kampot"),
    rec("S-3", "Mekong Knitwear", "KH"),  # two directory records fit: a person decides
    rec("S-4", "DD", "BD", None, registrationNumber="C-45213"),  # identifier, contradicting name
    rec("S-5", "Dhaka Denim Limited", "BD", None, registrationNumber="C-45213"),
    rec("S-6", "Mekong Knitwear Factory 2", "KH", "Road 6, Siem Reap"),
    rec(
        "S-7", "Totally Unknown Weaving Co., Ltd.", "KH", "Road 1, Kampot"
    ),  # made earlier in this list
]


async def test_outcomes(
    http: httpx.AsyncClient, actors: Actors, directory: dict[str, Factory]
) -> None:
    result = await upload(http, actors, LIST)
    r = by_ref(result)
    assert r["S-1"]["outcome"] == "MATCHED"
    assert r["S-1"]["factory"]["id"] == str(directory["angkor"].id)
    assert r["S-2"]["outcome"] == "CREATED"
    assert r["S-3"]["outcome"] == "NEEDS_REVIEW"
    assert r["S-3"]["factory"] is None
    assert {str(directory["mekong"].id), str(directory["mekong_kampot"].id)} <= {
        c["id"] for c in r["S-3"]["candidates"]
    }
    assert r["S-4"]["outcome"] != "MATCHED" or r["S-4"]["factory"]["id"] != str(
        directory["dhaka"].id
    )
    assert r["S-5"]["outcome"] == "MATCHED"
    assert r["S-5"]["components"]["identifier"] == "registration_number"
    assert r["S-6"]["factory"]["id"] == str(directory["mekong2"].id)
    assert r["S-7"]["outcome"] == "MATCHED"
    assert r["S-7"]["factory"]["id"] == r["S-2"]["factory"]["id"]
    assert r["S-7"]["components"]["note"] == "made earlier in this upload"
    assert result["received"] == 7
    assert result["matched"] + result["created"] + result["needsReview"] == 7
    assert r["S-1"]["components"]["name"] == 1.0


async def test_reupload_is_idempotent_and_reports_what_disappeared(
    http: httpx.AsyncClient, actors: Actors, directory: dict[str, Factory], session: AsyncSession
) -> None:
    first = await upload(http, actors, LIST)
    factories_after_first = (
        await session.execute(select(func.count()).select_from(Factory))
    ).scalar_one()
    again = await upload(http, actors, LIST[:-2])
    factories_after_again = (
        await session.execute(select(func.count()).select_from(Factory))
    ).scalar_one()
    assert factories_after_again == factories_after_first
    assert again["disappeared"] == ["S-6", "S-7"]
    for ref, row in by_ref(again).items():
        before = by_ref(first)[ref]
        assert row["outcome"] == before["outcome"]
        assert (row["factory"] or {}).get("id") == (before["factory"] or {}).get("id")
    suppliers = await gql(http, "{ suppliers { totalCount } }", actor=actors[Role.BUYER])
    assert suppliers["data"]["suppliers"]["totalCount"] == 6  # S-6 and S-7 kept, S-3 pending


async def test_decisions_are_remembered(
    http: httpx.AsyncClient, actors: Actors, directory: dict[str, Factory]
) -> None:
    await upload(http, actors, LIST[2:3])
    chosen = await gql(
        http, RESOLVE, {"ref": "S-3", "f": str(directory["mekong"].id)}, actor=actors[Role.BUYER]
    )
    assert chosen["data"]["resolveSupplierMatch"]["outcome"] == "MATCHED"
    changed = [{**LIST[2], "address": "Siem Reap town"}]  # a changed record is matched again
    again = by_ref(await upload(http, actors, changed))
    assert again["S-3"]["outcome"] == "MATCHED"
    assert again["S-3"]["components"]["note"] == "you confirmed this match"

    await upload(http, actors, [rec("S-9", "Mekong Knitwear", "KH", "Kampong Cham")])
    new = await gql(http, RESOLVE, {"ref": "S-9", "new": True}, actor=actors[Role.BUYER])
    made = new["data"]["resolveSupplierMatch"]
    assert made["outcome"] == "CREATED"
    moved = by_ref(
        await upload(http, actors, [rec("S-9", "Mekong Knitwear", "KH", "Kampong Cham province")])
    )
    assert moved["S-9"]["factory"]["id"] != str(directory["mekong"].id), "a rejected pair came back"


@pytest.mark.parametrize(
    ("records", "needle"),
    [
        # a good record goes first, so the bad ones are records 2 and 3
        ([rec("A", "", "KH")], "record 2: name is missing"),
        ([rec("A", "x", "")], "record 2: country is missing"),
        ([rec("A", "x", "KH"), rec("B", "y", "QQ")], "record 3: unknown country"),
        ([rec("A", "x" * 301, "KH")], "record 2: name is longer than 300"),
        ([rec("A", "x", "KH"), rec("A", "y", "KH")], "record 3: buyerRef 'A' repeats record 2"),
        ([rec(" ", "x", "KH")], "record 2: buyerRef is missing"),
    ],
)
async def test_bad_input_writes_nothing(
    http: httpx.AsyncClient,
    actors: Actors,
    session: AsyncSession,
    records: list[dict[str, Any]],
    needle: str,
) -> None:
    before = (await session.execute(select(func.count()).select_from(Factory))).scalar_one()
    body = await gql(
        http,
        UPLOAD,
        {"records": [rec("OK", "Fine Factory", "KH"), *records]},
        actor=actors[Role.BUYER],
    )
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert (
        needle.replace("record 1", "record 2").replace("record 2: unknown", "record 3: unknown")
        in body["errors"][0]["message"]
        or needle in body["errors"][0]["message"]
    )
    assert (await session.execute(select(func.count()).select_from(Factory))).scalar_one() == before


async def test_too_many_records(http: httpx.AsyncClient, actors: Actors) -> None:
    records = [rec(f"R{i}", f"Factory {i}", "KH") for i in range(5001)]
    body = await gql(http, UPLOAD, {"records": records}, actor=actors[Role.BUYER])
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert "at most 5000" in body["errors"][0]["message"]


async def test_only_buyers_upload(http: httpx.AsyncClient, actors: Actors) -> None:
    body = await gql(http, UPLOAD, {"records": [rec("A", "x", "KH")]}, actor=actors[Role.FACTORY])
    assert error_codes(body) == ["FORBIDDEN"]
    body = await gql(http, RESOLVE, {"ref": "nope", "new": True}, actor=actors[Role.BUYER])
    assert error_codes(body) == ["NOT_FOUND"]
