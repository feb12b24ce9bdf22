"""Normalisation and scoring: variants of one factory come together, sister factories stay apart."""

from __future__ import annotations

import pytest

from hub.matching.normalise import normalise_address, normalise_name
from hub.matching.score import Side, score


@pytest.mark.parametrize(
    ("variant", "canonical"),
    [
        ("Angkor Garment Co., Ltd.", "angkor garment"),
        ("ANGKOR GARMENTS COMPANY LIMITED", "angkor garment"),
        ("angkor garment co ltd", "angkor garment"),
        ("PT. Sinar Abadi Tbk", "sinar abadi"),
        ("PT Sinar Abadi", "sinar abadi"),
        ("Công ty TNHH May Việt Tiến", "may viet tien"),
        ("Cong Ty Co Phan May Viet Tien", "may viet tien"),
        ("Saigon Stitch Joint Stock Company", "saigon stitch"),
        ("Saigon Stitch JSC", "saigon stitch"),
        ("Dhaka Denim Ltd.", "dhaka denim"),
        ("Dhaka Denim Pvt. Ltd.", "dhaka denim"),
        ("Textiles Internationales S.A.", "textile internationales"),
        ("Intl Knits & Apparels", "international knit and apparel"),
        ("Al-Hassan Gmts Mfg", "al hassan garment manufacturing"),
    ],
)
def test_normalise_name(variant: str, canonical: str) -> None:
    assert normalise_name(variant) == canonical


def test_numbers_and_site_words_survive() -> None:
    assert normalise_name("X Garment Factory 2") == "x garment factory 2"
    assert normalise_name("Co. Ltd.") == "co ltd"  # nothing but a legal form keeps its words
    assert (
        normalise_address("No. 12, Rd 5, Dist. 7, HCMC")
        == "number 12 road 5 district 7 ho chi minh city"
    )


def side(name: str, address: str | None = None, country: str = "KH", **ids: str) -> Side:
    return Side(
        normalise_name(name), normalise_address(address), country, ids.get("os_id"), ids.get("reg")
    )


def test_variants_score_high() -> None:
    a = side("Angkor Garment Co., Ltd.", "Street 598, Phnom Penh")
    assert score(side("ANGKOR GARMENTS COMPANY LIMITED", "St 598, Phnom Penh"), a).total >= 0.95
    assert score(side("Angkr Garment", "Street 598 Phnom Penh"), a).total >= 0.9


def test_sisters_stay_apart() -> None:
    main = side("Mekong Knitwear", "National Road 4, Kandal")
    assert score(side("Mekong Knitwear Factory 2", "National Road 4, Kandal"), main).total < 0.75
    assert score(side("Mekong Knitwear Siem Reap", "Road 6, Siem Reap"), main).total < 0.75
    assert score(side("Mekong Knitwear Washing", "National Road 4, Kandal"), main).total < 0.75
    assert score(side("Mekong Knitwear", "Road 6, Siem Reap"), main).total < 0.9
    assert score(side("Mekong Knitwear", "National Road 4", country="VN"), main).total == 0.0


def test_identifiers_decide_unless_the_name_contradicts() -> None:
    directory = side("Dhaka Denim", "Ashulia, Savar", "BD", os_id="BD123")
    same = score(side("DD Ltd", None, "BD", os_id="BD123"), directory)
    assert same.total < 1.0  # "dd" is too far from "dhaka denim": the identifier is ignored
    agree = score(side("Dhaka Denim Limited", None, "BD", os_id="BD123"), directory)
    assert agree.identifier == "os_id"
    assert agree.total == 1.0
    clash = score(side("Dhaka Denim", None, "BD", os_id="BD999"), directory)
    assert clash.total <= 0.8
    assert "different OS IDs" in clash.reasons
    # an identifier copied onto the wrong row: the name agrees, the address does not
    moved = score(side("Dhaka Denim", "Road 9, Gazipur", "BD", os_id="BD123"), directory)
    assert moved.identifier is None
    assert moved.total < 0.75
    # a mistyped identifier does not outweigh a name and an address that both agree
    typo_id = score(side("Dhaka Denim", "Ashulia, Savar", "BD", os_id="BD999"), directory)
    assert typo_id.total == 1.0
