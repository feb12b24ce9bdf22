"""The consented map of a buyer is read from the Casbin links once and reused until that
buyer's grants change or one of them lapses: no per-request cost growing with its grants."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from hub.authz.projection import LedgerFact
from hub.authz.service import Authorizer


def test_the_map_is_reused_until_a_change_of_that_buyer_or_an_expiry() -> None:
    projection = Authorizer().projection
    buyer, other = uuid.uuid4(), uuid.uuid4()
    f1, f2 = uuid.uuid4(), uuid.uuid4()
    now = datetime.now(UTC)
    projection.apply(LedgerFact(0, "GRANTED", f1, buyer, ("SUMMARY",), now + timedelta(hours=1)))

    first = projection.consented_to(buyer, now)
    assert set(first) == {f1}
    assert projection.next_expiry(buyer) == now + timedelta(hours=1)
    assert projection.consented_to(buyer, now) is first  # reused, not read again

    projection.apply(LedgerFact(1, "GRANTED", f1, other, ("SUMMARY",), None))
    assert projection.consented_to(buyer, now) is first  # another buyer's change

    projection.apply(LedgerFact(2, "GRANTED", f2, buyer, ("FINDINGS",), None))
    assert set(projection.consented_to(buyer, now)) == {f1, f2}

    later = now + timedelta(hours=2)  # f1's grant has lapsed, no event yet
    assert set(projection.consented_to(buyer, later)) == {f2}
    assert projection.next_expiry(buyer) is None

    projection.apply(LedgerFact(3, "REVOKED", f2, buyer, (), None))
    assert dict(projection.consented_to(buyer, later)) == {}
