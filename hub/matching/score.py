"""How alike a supplier record and a directory factory are, with the reasons.

Scores come from rapidfuzz on normalised text. The name carries most weight; the address
confirms or separates (the same group's sites differ there); identifiers decide when they
agree and the name does not contradict them. Two guards keep sister factories apart: names
whose numbers differ ("Factory 2") never score high, and neither do names where one has words
the other lacks entirely (a sub-brand or site name), unless the address agrees.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz

from hub.matching.normalise import numbers

NAME_WEIGHT = 0.7
ADDRESS_WEIGHT = 0.3
# an identifier match is trusted unless the names are this far apart
IDENTIFIER_NAME_FLOOR = 0.5


@dataclass(frozen=True)
class Side:
    name: str  # normalised
    address: str  # normalised, "" when unknown
    country: str
    os_id: str | None = None
    registration_number: str | None = None


@dataclass(frozen=True)
class Score:
    total: float
    name: float
    address: float | None
    identifier: str | None  # "os_id" / "registration_number" when one decided
    reasons: tuple[str, ...]


def name_similarity(a: str, b: str) -> float:
    # token_sort_ratio: word order does not matter, but extra words do (token_set_ratio would
    # call "x garment" and "x garment factory 2" identical)
    return fuzz.token_sort_ratio(a, b) / 100.0


def address_similarity(a: str, b: str) -> float | None:
    if not a or not b:
        return None
    return fuzz.token_set_ratio(a, b) / 100.0


def score(record: Side, factory: Side) -> Score:
    reasons: list[str] = []
    if record.country != factory.country:
        return Score(0.0, 0.0, None, None, ("other country",))
    name = name_similarity(record.name, factory.name)
    address = address_similarity(record.address, factory.address)
    for field in ("os_id", "registration_number"):
        mine, theirs = getattr(record, field), getattr(factory, field)
        if mine and theirs and mine == theirs:
            if name >= IDENTIFIER_NAME_FLOOR:
                return Score(1.0, name, address, field, (f"same {field}",))
            reasons.append(f"same {field} but a different name: identifier ignored")
    total = name if address is None else NAME_WEIGHT * name + ADDRESS_WEIGHT * address
    if address is None:
        reasons.append("no address to compare")
    if numbers(record.name) != numbers(factory.name):
        total = min(total, 0.6)
        reasons.append("the names carry different numbers")
    mine_words, their_words = set(record.name.split()), set(factory.name.split())
    if (mine_words - their_words or their_words - mine_words) and (
        address is None or address < 0.8
    ):
        # a word one name has and the other lacks, with no address to vouch: a sister site?
        total = min(total, 0.85)
        reasons.append("the names differ by whole words")
    if record.os_id and factory.os_id and record.os_id != factory.os_id:
        total = min(total, 0.8)
        reasons.append("different OS IDs")
    return Score(
        round(total, 4),
        round(name, 4),
        None if address is None else round(address, 4),
        None,
        tuple(reasons),
    )
