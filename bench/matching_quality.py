#!/usr/bin/env python3
"""Supplier-list matching quality (and speed), on synthetic but hard data.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres python bench/matching_quality.py --seed 1
    ... --seed 2                      # thresholds must hold on more than one seed
    ... --speed                       # 5,000 records against a 100,000-factory directory

A directory of factories is generated with the traps real ones have: factory groups with sister
sites ("Sunrise Garment", "Sunrise Garment Factory 2", the same name in another city or
country). Buyer lists are then drawn from it with noise: legal-form variants, case, accents
dropped, typos, abbreviations, word order, address variants or none, missing or wrong
identifiers. Some records name factories that are not in the directory (they must be created),
among them hard negatives: the sister of a directory factory. Printed: pairwise precision and
recall of the links made, F1, the review rate, and false merges of hard negatives.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import insert, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scratch import scratch_database

from hub.config import Settings
from hub.db.engine import build_engine, build_sessionmaker
from hub.directory.models import Factory, Organization, Role
from hub.matching.models import MatchOutcome
from hub.matching.normalise import normalise_address, normalise_name
from hub.matching.records import SupplierRecord
from hub.matching.service import MatchingService

DB = f"hub_bench_matching_{os.getpid()}"  # runs side by side do not collide
COUNTRIES = {
    "KH": (
        ["Phnom Penh", "Kandal", "Siem Reap", "Kampong Speu", "Takeo"],
        ["Street", "National Road"],
    ),
    "VN": (["Ho Chi Minh City", "Hanoi", "Da Nang", "Binh Duong", "Dong Nai"], ["Duong", "Road"]),
    "BD": (["Dhaka", "Gazipur", "Chattogram", "Narayanganj", "Savar"], ["Road", "Lane"]),
    "ID": (["Jakarta", "Bandung", "Semarang", "Surabaya", "Bogor"], ["Jalan", "Road"]),
    "JO": (["Irbid", "Amman", "Zarqa", "Aqaba", "Karak"], ["Street", "Road"]),
    "HT": (["Port-au-Prince", "Caracol", "Ouanaminthe", "Carrefour", "Delmas"], ["Rue", "Route"]),
}
ROOTS = [
    "sunrise",
    "golden",
    "lotus",
    "mekong",
    "angkor",
    "royal",
    "pearl",
    "jade",
    "phoenix",
    "orchid",
    "lucky",
    "harmony",
    "evergreen",
    "silver",
    "bright",
    "grand",
    "pacific",
    "oriental",
    "crystal",
    "tiger",
    "dragon",
    "eagle",
    "falcon",
    "river",
    "mountain",
    "ocean",
    "diamond",
    "star",
    "summit",
    "victory",
    "unity",
    "liberty",
    "noble",
    "prime",
    "vista",
    "horizon",
    "coral",
    "saffron",
    "indigo",
    "cobalt",
    "ivory",
    "amber",
    "scarlet",
    "emerald",
    "azure",
    "sapphire",
    "ruby",
    "topaz",
    "onyx",
    "opal",
    "garnet",
    "cedar",
    "maple",
    "willow",
    "bamboo",
    "lotusland",
    "sakura",
    "tulip",
    "jasmine",
    "hibiscus",
    "magnolia",
    "camellia",
    "peony",
    "dahlia",
    "iris",
]
PERSONS = [
    "nguyen",
    "tran",
    "rahman",
    "hossain",
    "hassan",
    "kumar",
    "wijaya",
    "santoso",
    "chea",
    "sok",
    "pierre",
    "joseph",
]
TRADES = [
    "Garment",
    "Knitwear",
    "Textile",
    "Apparel",
    "Fashion",
    "Denim",
    "Sweater",
    "Knit",
    "Footwear",
    "Dyeing",
]
LEGAL = {
    "KH": ["Co., Ltd.", "Company Limited", "Co Ltd", ""],
    "VN": ["Co., Ltd", "Joint Stock Company", "JSC", "Company Limited", ""],
    "BD": ["Ltd.", "Limited", "Pvt. Ltd.", ""],
    "ID": ["", "Tbk", ""],
    "JO": ["Co.", "L.L.C.", "Company", ""],
    "HT": ["S.A.", "SA", ""],
}
ABBREV = {
    "Garment": "Gmts",
    "Textile": "Tex",
    "Apparel": "Apparels",
    "International": "Intl",
    "Manufacturing": "Mfg",
    "Factory": "Fty",
}


@dataclass
class Truth:
    name: str
    address: str
    country: str
    os_id: str | None
    id: uuid.UUID | None = None  # in the directory


def make_directory(rng: random.Random, size: int) -> tuple[list[Truth], list[Truth]]:
    """(factories in the directory, hard negatives: sisters that are not)."""
    directory: list[Truth] = []
    sisters: list[Truth] = []
    used: set[str] = set()
    while len(directory) < size:
        country = rng.choice(list(COUNTRIES))
        cities, streets = COUNTRIES[country]
        base = f"{rng.choice(ROOTS).title()} {rng.choice(ROOTS + PERSONS).title()} {rng.choice(TRADES)}"
        if base in used or (size > 20_000 and rng.random() < 0.6):
            # (two words and a trade give some 50,000 names; big directories need a third)
            base = f"{rng.choice(ROOTS).title()} {base}"
        if base in used:
            continue
        used.add(base)
        city = rng.choice(cities)
        address = f"{rng.choice(streets)} {rng.randint(1, 999)}, {city}"
        directory.append(
            Truth(base, address, country, f"{country}{rng.randint(10**9, 10**10 - 1)}")
        )
        roll = rng.random()
        if roll < 0.15:  # a numbered sister site
            sister = Truth(
                f"{base} Factory {rng.randint(2, 4)}",
                f"{rng.choice(streets)} {rng.randint(1, 999)}, {rng.choice(cities)}",
                country,
                None,
            )
        elif roll < 0.25:  # the same name in another city
            other = rng.choice([c for c in cities if c != city])
            sister = Truth(
                base, f"{rng.choice(streets)} {rng.randint(1, 999)}, {other}", country, None
            )
        elif roll < 0.30:  # a group's sub-brand
            sister = Truth(
                f"{base} {rng.choice(['Washing', 'Printing', 'Embroidery', 'Accessories'])}",
                address,
                country,
                None,
            )
        else:
            continue
        (directory if rng.random() < 0.5 else sisters).append(sister)
    return directory[:size], sisters


def typo(rng: random.Random, word: str) -> str:
    if len(word) < 6:
        return word
    i = rng.randrange(1, len(word) - 2)
    kind = rng.random()
    if kind < 0.4:
        return word[:i] + word[i + 1 :]
    if kind < 0.7:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    return word[:i] + rng.choice("aeiou") + word[i + 1 :]


def noisy(
    rng: random.Random, truth: Truth, directory: list[Truth], keep_address: bool = False
) -> SupplierRecord:
    words = truth.name.split()
    if rng.random() < 0.3:
        words = [ABBREV.get(w, w) for w in words]
    if rng.random() < 0.2:
        j = rng.randrange(len(words))
        words[j] = typo(rng, words[j])
    if rng.random() < 0.1 and len(words) >= 3:
        words[0], words[1] = words[1], words[0]
    name = " ".join(words)
    legal = rng.choice(LEGAL[truth.country])
    name = (
        f"PT {name}" if truth.country == "ID" and rng.random() < 0.5 else f"{name} {legal}".strip()
    )
    case = rng.random()
    name = name.upper() if case < 0.25 else name.lower() if case < 0.4 else name
    address: str | None = truth.address
    roll = rng.random()
    if roll < 0.2 and not keep_address:
        # (a sister known only by a name it shares with a directory factory cannot be told
        # apart by anyone: those keep an address)
        address = None
    elif roll < 0.5:
        address = address.replace("Street", "St").replace("Road", "Rd").replace(",", "")
    elif roll < 0.6:
        address = address.split(",")[-1].strip()  # the city only
    os_id = truth.os_id if rng.random() < 0.3 else None
    if rng.random() < 0.03:
        os_id = rng.choice(directory).os_id  # a wrong identifier
    return SupplierRecord(
        buyer_ref="", name=name, country=truth.country, address=address, os_id=os_id
    )


async def load_directory(settings: Settings, directory: list[Truth]) -> None:
    engine = build_engine(settings)
    async with build_sessionmaker(engine)() as s, s.begin():
        for start in range(0, len(directory), 5000):
            rows = []
            for i, t in enumerate(directory[start : start + 5000], start=start):
                t.id = uuid.uuid4()
                rows.append(
                    {
                        "id": t.id,
                        "hub_id": f"CH-Q{i:07d}",
                        "name": t.name,
                        "address": t.address,
                        "country": t.country,
                        "os_id": t.os_id,
                        "norm_name": normalise_name(t.name),
                        "norm_address": normalise_address(t.address),
                    }
                )
            await s.execute(insert(Factory), rows)
    await engine.dispose()


async def quality(settings: Settings, seed: int, size: int, records: int, explain: int = 0) -> None:
    rng = random.Random(seed)
    directory, sisters = make_directory(rng, size)
    await load_directory(settings, directory)
    known = {t.name: t for t in directory}
    directory_ids = {t.id for t in directory}
    chosen: list[
        tuple[SupplierRecord, Truth | None, bool]
    ] = []  # record, truth in directory, hard negative
    for k in range(records):
        roll = rng.random()
        if roll < 0.75:
            truth = rng.choice(directory)
            chosen.append((noisy(rng, truth, directory), truth, False))
        elif roll < 0.9 and sisters:
            sister = rng.choice(sisters)
            chosen.append(
                (noisy(rng, sister, directory, keep_address=sister.name in known), None, True)
            )
        else:
            base = (
                f"{rng.choice(ROOTS).title()} {rng.choice(ROOTS).title()} {rng.choice(TRADES)} {k}"
            )
            fresh = Truth(base, f"Road {k}, {rng.choice(COUNTRIES['BD'][0])}", "BD", None)
            chosen.append((noisy(rng, fresh, directory), None, False))
    recs = [
        SupplierRecord(f"R{i}", r.name, r.country, r.address, r.os_id)
        for i, (r, _, _) in enumerate(chosen)
    ]
    engine = build_engine(settings)
    sessions = build_sessionmaker(engine)
    async with sessions() as s, s.begin():
        buyer = Organization(role=Role.BUYER, name="Bench Buyer")
        s.add(buyer)
        await s.flush()
        buyer_id = buyer.id
    t0 = time.perf_counter()
    results = []
    for start in range(0, len(recs), 5000):
        async with sessions() as s, s.begin():
            results += (
                await MatchingService(s, settings).upload(
                    buyer_id, recs[start : start + 5000], complete=False
                )
            ).records
    took = time.perf_counter() - t0
    await engine.dispose()
    tp = fp = fn = review = false_merge = 0
    shown = 0
    for (rec, truth, hard), result in zip(chosen, results, strict=True):
        if explain and shown < explain:
            wrong = (
                truth is None
                and result.outcome is MatchOutcome.MATCHED
                and result.factory is not None
                and result.factory.id in directory_ids
            ) or (truth is not None and (result.factory is None or result.factory.id != truth.id))
            if wrong:
                shown += 1
                s_ = result.score
                print(
                    f"  {result.outcome.value:<12} {rec.name!r} / {rec.address!r}\n"
                    f"     truth {truth.name + ' / ' + truth.address if truth else '(new' + (', hard negative)' if hard else ')')}\n"
                    f"     got   {(result.factory.name + ' / ' + str(result.factory.address)) if result.factory else '-'}"
                    f" score {s_.total if s_ else None} name {s_.name if s_ else None} addr {s_.address if s_ else None} {s_.reasons if s_ else ''}\n"
                    f"     candidates {[(f.name, f.address, c.total) for f, c in result.candidates[:3]]}"
                )
        if result.outcome is MatchOutcome.NEEDS_REVIEW:
            review += 1
            if truth is not None:
                fn += 1
            continue
        linked_existing = (
            result.outcome is MatchOutcome.MATCHED
            and result.factory is not None
            and result.factory.id in {t.id for t in [truth] if t}
        )
        if truth is not None:
            if linked_existing:
                tp += 1
            else:
                fn += 1
                if (
                    result.outcome is MatchOutcome.MATCHED
                    and result.factory
                    and result.factory.id in directory_ids
                ):
                    fp += 1  # linked, but to the wrong directory factory
        elif (
            result.outcome is MatchOutcome.MATCHED
            and result.factory is not None
            and result.factory.id in directory_ids
        ):
            fp += 1
            false_merge += hard
    why = Counter()
    for result in results:
        if result.outcome is MatchOutcome.NEEDS_REVIEW:
            grey = result.candidates
            if len(grey) > 1 and grey[1][1].total >= settings.match_high:
                why["two candidates fit equally"] += 1
            elif result.score is not None:
                why["; ".join(result.score.reasons) or "score in the grey zone"] += 1
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    hard_total = sum(1 for _, _, h in chosen if h)
    print(
        f"seed {seed}: directory {size:,}, records {records:,} ({hard_total} hard negatives) | "
        f"precision {precision:.4f} recall {recall:.4f} F1 {f1:.4f} | review rate {review / records:.2%} | "
        f"false merges of hard negatives {false_merge} | {took:.1f} s | thresholds {settings.match_high}/{settings.match_low}"
    )
    print("  why records went to review: " + ", ".join(f"{k} ({n})" for k, n in why.most_common()))


async def speed(settings: Settings, size: int, records: int) -> None:
    rng = random.Random(99)
    directory, _ = make_directory(rng, size)
    await load_directory(settings, directory)
    recs = [
        SupplierRecord(f"S{i}", r.name, r.country, r.address, r.os_id)
        for i, r in enumerate(noisy(rng, rng.choice(directory), directory) for _ in range(records))
    ]
    engine = build_engine(settings)
    sessions = build_sessionmaker(engine)
    async with sessions() as s, s.begin():
        buyer = Organization(role=Role.BUYER, name="Speed Buyer")
        s.add(buyer)
        await s.flush()
        buyer_id = buyer.id
    async with sessions() as s:
        await s.execute(text("ANALYZE factories"))
        plan = await s.execute(
            text(
                "EXPLAIN SELECT id FROM factories WHERE country = 'KH' AND merged_into_id IS NULL "
                "AND norm_name % 'sunrise lotus garment' ORDER BY norm_name <-> 'sunrise lotus garment' LIMIT 5"
            )
        )
        print("candidate query plan:\n  " + "\n  ".join(row[0] for row in plan))
    t0 = time.perf_counter()
    async with sessions() as s, s.begin():
        result = await MatchingService(s, settings).upload(buyer_id, recs)
    took = time.perf_counter() - t0
    await engine.dispose()
    outcomes = {o.value: result.count(o) for o in MatchOutcome}
    print(f"upload of {records:,} records against {size:,} factories: {took:.1f} s ({outcomes})")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--directory", type=int, default=5_000)
    parser.add_argument("--records", type=int, default=5_000)
    parser.add_argument(
        "--speed", action="store_true", help="5,000 records against 100,000 factories"
    )
    parser.add_argument("--explain", type=int, default=0, help="print this many mistakes")
    args = parser.parse_args()
    async with scratch_database(DB) as settings:
        if args.speed:
            await speed(settings, 100_000, 5_000)
        else:
            await quality(settings, args.seed, args.directory, args.records, args.explain)


if __name__ == "__main__":
    asyncio.run(main())
