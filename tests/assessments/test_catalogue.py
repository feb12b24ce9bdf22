"""The shipped compliance-point catalogue and the `questions` query."""

from __future__ import annotations

import re
from collections import Counter

from hub.assessments.catalogue import catalogue_countries, load_catalogue
from hub.assessments.models import Cluster
from hub.directory.models import Role
from tests.helpers import Actors, error_codes, gql

COUNTRIES = {"KH", "VN", "BD", "ID", "JO", "HT"}


def test_catalogue_covers_every_cluster_and_country() -> None:
    questions = load_catalogue()
    general = [q for q in questions if q.country is None]
    assert len(general) >= 120
    assert {q.cluster for q in questions} == set(Cluster)
    assert set(catalogue_countries()) >= COUNTRIES
    for q in general:
        assert set(q.references) >= COUNTRIES, q.code
        assert all(ref.strip() for ref in q.references.values())
    assert {q.country for q in questions if q.country} >= COUNTRIES


def test_codes_are_unique_and_stable_in_form() -> None:
    codes = [q.code for q in load_catalogue()]
    assert [c for c, n in Counter(codes).items() if n > 1] == []
    for q in load_catalogue():
        pattern = (
            r"^[A-Z]{3}\.[A-Z]{3}\.\d{2}$"
            if q.country is None
            else rf"^[A-Z]{{3}}\.[A-Z]{{3}}\.{q.country}\d$"
        )
        assert re.match(pattern, q.code), q.code


async def test_questions_for_a_country_carry_its_references(http, actors: Actors) -> None:
    body = await gql(
        http,
        '{ questions(country: "BD") { code country legalReference } }',
        actor=actors[Role.BUYER],
    )
    rows = body["data"]["questions"]
    general = [q for q in load_catalogue() if q.country is None]
    assert len(rows) == len(general) + sum(1 for q in load_catalogue() if q.country == "BD")
    assert all(r["country"] in (None, "BD") for r in rows)
    assert all("Bangladesh" in r["legalReference"] for r in rows)
    by_code = {r["code"]: r for r in rows}
    assert "s. 205" in by_code["FOA.UOP.BD1"]["legalReference"]


async def test_questions_by_cluster(http, actors: Actors) -> None:
    body = await gql(
        http,
        "{ questions(cluster: OSH) { code cluster legalReference } }",
        actor=actors[Role.AUDITOR],
    )
    rows = body["data"]["questions"]
    assert rows
    assert all(r["cluster"] == "OSH" for r in rows)
    # without a country, a general question has no single legal reference
    assert all(
        r["legalReference"] is None
        for r in rows
        if r["code"].count(".") == 2 and r["code"][-2:].isdigit()
    )


async def test_questions_unknown_country(http, actors: Actors) -> None:
    body = await gql(http, '{ questions(country: "Narnia") { code } }', actor=actors[Role.BUYER])
    assert error_codes(body) == ["BAD_USER_INPUT"]
