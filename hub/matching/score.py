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
IDENTIFIER_NAME_FLOOR = 0.8


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


def _aligned(a: list[str], b: list[str]) -> float:
    """Each word of `a` against its closest word in `b`, weighted by length."""
    if not a or not b:
        return 0.0
    total = sum(len(w) for w in a)
    return sum(len(w) * max(fuzz.ratio(w, v) for v in b) for w in a) / (100.0 * total)


def name_similarity(a: str, b: str) -> float:
    # Word order must not matter, nor may a typo (which can reorder sorted tokens), but extra
    # words must count: the better of token_sort_ratio and a word-by-word alignment taken in
    # both directions (an extra word lowers one direction).
    left, right = a.split(), b.split()
    aligned = min(_aligned(left, right), _aligned(right, left))
    return max(fuzz.token_sort_ratio(a, b) / 100.0, aligned)


# Words every address has; two addresses are told apart by their numbers and place names.
ADDRESS_GENERIC = frozenset(
    [
        "road",
        "street",
        "lane",
        "avenue",
        "highway",
        "national",
        "number",
        "jalan",
        "duong",
        "rue",
        "route",
        "district",
        "province",
        "city",
        "block",
        "building",
        "floor",
        "industrial",
        "zone",
        "park",
        "estate",
        "export",
        "processing",
        "special",
        "economic",
        "area",
        "village",
        "commune",
        "ward",
        "town",
    ]
)


def address_similarity(a: str, b: str) -> float | None:
    left = [w for w in a.split() if w not in ADDRESS_GENERIC]
    right = [w for w in b.split() if w not in ADDRESS_GENERIC]
    if not left or not right:
        return None
    mine, theirs = numbers(" ".join(left)), numbers(" ".join(right))
    if mine and theirs and not mine & theirs:
        return 0.0  # other street numbers: another place, however alike the words
    return fuzz.token_set_ratio(" ".join(left), " ".join(right)) / 100.0


# Trade words a buyer's list adds or drops freely; their absence says little.
GENERIC_WORDS = frozenset(
    [
        "garment",
        "apparel",
        "textile",
        "fashion",
        "knit",
        "knitwear",
        "factory",
        "industries",
        "industrial",
        "group",
        "international",
        "manufacturing",
        "manufacturer",
        "export",
        "mill",
        "mills",
        "clothing",
        "wear",
        "company",
        "and",
        "the",
        "of",
        "trading",
    ]
)


def unmatched_words(a: str, b: str) -> set[str]:
    """Words of either name with no close counterpart (ratio >= 80) in the other: a typo has
    one, a site or sub-brand word ("washing", "siem reap") has none."""
    left, right = a.split(), b.split()
    lonely = {w for w in left if not any(fuzz.ratio(w, v) >= 80 for v in right)}
    lonely |= {w for w in right if not any(fuzz.ratio(w, v) >= 80 for v in left)}
    return lonely


def score(record: Side, factory: Side) -> Score:
    reasons: list[str] = []
    if record.country != factory.country:
        return Score(0.0, 0.0, None, None, ("other country",))
    name = name_similarity(record.name, factory.name)
    address = address_similarity(record.address, factory.address)
    for field in ("os_id", "registration_number"):
        mine, theirs = getattr(record, field), getattr(factory, field)
        if mine and theirs and mine == theirs:
            if name >= IDENTIFIER_NAME_FLOOR and (address is None or address >= 0.6):
                return Score(1.0, name, address, field, (f"same {field}",))
            # an identifier copied onto the wrong row is a common data error: the name and
            # the address must not contradict it
            reasons.append(f"same {field} but another name or address: identifier ignored")
    total = name if address is None else NAME_WEIGHT * name + ADDRESS_WEIGHT * address
    if address is None:
        reasons.append("no address to compare")
    elif address < 0.6:
        # the same name at a clearly different address is another site of the group
        total = min(total, 0.7)
        reasons.append("different addresses")
    if numbers(record.name) != numbers(factory.name):
        total = min(total, 0.6)
        reasons.append("the names carry different numbers")
    lonely = unmatched_words(record.name, factory.name)
    if lonely - GENERIC_WORDS:
        # a distinctive word one name has and the other lacks entirely ("washing", a place):
        # another unit of the group, not a spelling of this one
        total = min(total, 0.7)
        reasons.append("the names differ by a distinctive word")
    elif lonely and (address is None or address < 0.9):
        total = min(total, 0.85)
        reasons.append("the names differ by a trade word")
    if record.os_id and factory.os_id and record.os_id != factory.os_id:
        agreeing = name >= 0.95 and address is not None and address >= 0.9
        if not agreeing:
            total = min(total, 0.8)
        reasons.append("different OS IDs" + ("; name and address agree" if agreeing else ""))
    return Score(
        round(total, 4),
        round(name, 4),
        None if address is None else round(address, 4),
        None,
        tuple(reasons),
    )
