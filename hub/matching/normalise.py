"""Normalised factory names and addresses: what matching compares.

Case, accents and punctuation go; legal forms in the languages of the producing countries go
(Co., Ltd / Company Limited / PT / Tbk / JSC / Công ty TNHH / S.A. / Pvt …); common
abbreviations are spelled out and plurals folded. Numbers and every other word stay: "Factory 2"
and a second site in another city must stay distinct, so nothing that can tell two sister
factories apart is thrown away.
"""

from __future__ import annotations

import re
import unicodedata

# phrases first (longest match wins), then single tokens; all already lower-case, unaccented
LEGAL_PHRASES = [
    "public company limited",
    "private limited company",
    "joint stock company",
    "limited liability company",
    "company limited",
    "co ltd",
    "pvt ltd",
    "private limited",
    "sdn bhd",
    "cong ty tnhh",
    "cong ty co phan",
    "cong ty",
    "l l c",
    "s a r l",
    "s a",
    "s r l",
    "s p a",
]
LEGAL_TOKENS = {
    "co",
    "ltd",
    "limited",
    "company",
    "corp",
    "corporation",
    "inc",
    "incorporated",
    "llc",
    "plc",
    "pt",
    "tbk",
    "cv",
    "ud",
    "sa",
    "sarl",
    "srl",
    "spa",
    "sas",
    "gmbh",
    "ag",
    "jsc",
    "tnhh",
    "cty",
    "pvt",
    "bhd",
    "sdn",
    "lda",
    "ltda",
    "llp",
    "pte",
    "pty",
    "ste",
    "societe",
    "sociedad",
    "anonima",
    "cp",
    "mtv",
}
ABBREVIATIONS = {
    "intl": "international",
    "int'l": "international",
    "mfg": "manufacturing",
    "mfrs": "manufacturers",
    "mfr": "manufacturer",
    "gmt": "garment",
    "gmts": "garment",
    "garments": "garment",
    "textiles": "textile",
    "tex": "textile",
    "apparels": "apparel",
    "fashions": "fashion",
    "knits": "knit",
    "knitwears": "knitwear",
    "fty": "factory",
    "fact": "factory",
    "factories": "factory",
    "inds": "industries",
    "ind": "industrial",
    "indus": "industrial",
    "industry": "industries",
    "&": "and",
    "bros": "brothers",
    "mfy": "factory",
    "grp": "group",
    "hldgs": "holdings",
    "expt": "export",
    "exp": "export",
    "imp": "import",
}
ADDRESS_ABBREVIATIONS = {
    "rd": "road",
    "st": "street",
    "str": "street",
    "ave": "avenue",
    "hwy": "highway",
    "dist": "district",
    "ind": "industrial",
    "indl": "industrial",
    "est": "estate",
    "ip": "industrial park",
    "iz": "industrial zone",
    "epz": "export processing zone",
    "sez": "special economic zone",
    "no": "number",
    "nr": "number",
    "blk": "block",
    "bldg": "building",
    "fl": "floor",
    "prov": "province",
    "hcmc": "ho chi minh city",
    "pp": "phnom penh",
    "ctg": "chattogram",
    "chittagong": "chattogram",
}
_PUNCT = re.compile(r"[^\w\s]|_", re.UNICODE)
_SPACE = re.compile(r"\s+")
_PHRASES = re.compile(r"\b(" + "|".join(re.escape(p) for p in LEGAL_PHRASES) + r")\b")


def fold(text: str) -> str:
    """Lower case, no accents, punctuation to spaces, single spaces."""
    decomposed = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    ascii_only = "".join(c for c in decomposed if not unicodedata.combining(c))
    lowered = ascii_only.lower().replace("&", " and ")
    return _SPACE.sub(" ", _PUNCT.sub(" ", lowered)).strip()


def normalise_name(name: str) -> str:
    folded = fold(name)
    text = _PHRASES.sub(" ", folded).strip() or folded
    tokens = [ABBREVIATIONS.get(t, t) for t in text.split()]
    kept = [t for t in tokens if t not in LEGAL_TOKENS]
    # a name that is nothing but legal form keeps its words rather than becoming empty
    return " ".join(kept or tokens)


def normalise_address(address: str | None) -> str:
    if not address:
        return ""
    return " ".join(ADDRESS_ABBREVIATIONS.get(t, t) for t in fold(address).split())


def numbers(text: str) -> frozenset[str]:
    """The numbers in a normalised name: "garment factory 2" has {"2"}. Roman numerals count."""
    found = set(re.findall(r"\d+", text))
    roman = {"i": "1", "ii": "2", "iii": "3", "iv": "4", "v": "5", "vi": "6", "vii": "7"}
    found.update(roman[t] for t in text.split() if t in roman)
    return frozenset(found)
