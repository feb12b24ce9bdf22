"""A supplier record as a buyer sends it: fields, limits, validation, fingerprint."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from hub.directory.service import normalise_country
from hub.errors import BadUserInput
from hub.matching.normalise import normalise_address, normalise_name
from hub.matching.score import Side

MAX_RECORDS = 5_000
LIMITS = {"buyer_ref": 200, "name": 300, "address": 500, "os_id": 64, "registration_number": 64}


@dataclass(frozen=True)
class SupplierRecord:
    buyer_ref: str
    name: str
    country: str
    address: str | None = None
    os_id: str | None = None
    registration_number: str | None = None

    def fingerprint(self) -> str:
        data = [self.name, self.country, self.address, self.os_id, self.registration_number]
        return hashlib.sha256(json.dumps(data).encode()).hexdigest()

    def side(self) -> Side:
        return Side(
            normalise_name(self.name),
            normalise_address(self.address),
            self.country,
            self.os_id,
            self.registration_number,
        )


def clean_record(raw: SupplierRecord, where: str) -> SupplierRecord:
    """Trimmed and checked; BadUserInput naming the record and field otherwise."""
    values: dict[str, str | None] = {}
    for name, limit in LIMITS.items():
        value = getattr(raw, name)
        value = value.strip() if isinstance(value, str) else None
        if value is not None and len(value) > limit:
            raise BadUserInput(f"{where}: {name} is longer than {limit} characters")
        values[name] = value or None
    if not values["buyer_ref"]:
        raise BadUserInput(f"{where}: buyerRef is missing")
    if not values["name"]:
        raise BadUserInput(f"{where}: name is missing")
    if not raw.country or not raw.country.strip():
        raise BadUserInput(f"{where}: country is missing")
    try:
        country = normalise_country(raw.country)
    except BadUserInput as exc:
        raise BadUserInput(f"{where}: {exc.message}") from None
    return SupplierRecord(
        buyer_ref=values["buyer_ref"] or "",
        name=values["name"] or "",
        country=country,
        address=values["address"],
        os_id=values["os_id"],
        registration_number=values["registration_number"],
    )


def record_json(r: SupplierRecord) -> dict[str, Any]:
    return {
        "buyer_ref": r.buyer_ref,
        "name": r.name,
        "country": r.country,
        "address": r.address,
        "os_id": r.os_id,
        "registration_number": r.registration_number,
    }
