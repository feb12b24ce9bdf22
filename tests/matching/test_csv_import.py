"""`hub suppliers import` and `hub factories import`: streamed CSVs, bad rows reported by line,
the rest processed."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.directory.models import Factory, Role
from hub.matching.models import SupplierLink
from tests.helpers import make_org
from tests.test_cli import hub

DIRECTORY = """name,address,country,os_id,registration_number
Angkor Garment Co. Ltd,"Street 598, Phnom Penh",KH,KH-OS-1,
Mekong Knitwear,"National Road 4, Kandal",KH,,
ANGKOR GARMENTS COMPANY LIMITED,"St 598, Phnom Penh",KH,,
Mekong Knitwear Factory 2,"Road 6, Siem Reap",KH,,
Nowhere Mill,Somewhere,XX,,
,No name,KH,,
"""

SUPPLIERS = """buyerRef,name,address,country,osId
N-1,Angkor Garment,"Street 598 Phnom Penh",KH,
N-2,Mekong Knitwear,"National Rd 4, Kandal",kh,
N-3,Brand New Weaving,"Road 9, Kampot",KH,
N-3,Duplicate Ref,"x",KH,
N-4,Broken,"too",KH,extra,field
"""


async def test_directory_then_supplier_import(
    database_url: str, key_file: Path, tmp_path: Path, session: AsyncSession
) -> None:
    directory = tmp_path / "directory.csv"
    directory.write_text(DIRECTORY)
    made = hub(database_url, key_file, "factories", "import", str(directory))
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith("3 factories added, 1 already in the directory")
    assert "line 6: unknown country" in made.stderr
    assert "line 7: name is missing" in made.stderr
    assert (await session.execute(select(func.count()).select_from(Factory))).scalar_one() == 3

    buyer, _ = await make_org(session, Role.BUYER, "CSV Buyer")
    suppliers = tmp_path / "suppliers.csv"
    suppliers.write_text(SUPPLIERS)
    result = hub(
        database_url, key_file, "suppliers", "import", "--buyer", str(buyer.id), str(suppliers)
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(
        "3 records: 2 matched, 1 created, 0 need review; 2 rows refused"
    )
    assert "line 5: buyerRef 'N-3' repeats an earlier line" in result.stderr
    assert "line 6: more fields than columns" in result.stderr
    links = (
        await session.execute(select(func.count()).where(SupplierLink.buyer_org_id == buyer.id))
    ).scalar_one()
    assert links == 3

    again = hub(
        database_url, key_file, "suppliers", "import", "--buyer", str(buyer.id), str(suppliers)
    )
    assert again.stdout.startswith(
        "3 records: 2 matched, 1 created"
    )  # unchanged records keep their outcome
    assert (await session.execute(select(func.count()).select_from(Factory))).scalar_one() == 4


def test_import_bad_invocations(database_url: str, key_file: Path, tmp_path: Path) -> None:
    missing = hub(database_url, key_file, "factories", "import", str(tmp_path / "nope.csv"))
    assert missing.returncode == 2
    assert "cannot read" in missing.stderr
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("title,place\nx,y\n")
    result = hub(database_url, key_file, "factories", "import", str(wrong))
    assert result.returncode == 2
    assert "missing column(s) country, name" in result.stderr
    result = hub(
        database_url,
        key_file,
        "suppliers",
        "import",
        "--buyer",
        "00000000-0000-0000-0000-000000000000",
        str(wrong),
    )
    assert result.returncode == 2
