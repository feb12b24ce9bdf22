"""`hub demo` data: what the issue promises, and loading it twice changes nothing."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.assessments.models import Assessment, AssessmentStatus
from hub.directory.models import Factory, Organization, Role
from hub.ops.demo import load_demo


async def _counts(session: AsyncSession) -> dict[str, int]:
    async def count(query: object) -> int:
        return int((await session.execute(query)).scalar_one())  # type: ignore[call-overload]

    return {
        "orgs": await count(select(func.count()).select_from(Organization)),
        "buyers": await count(select(func.count()).where(Organization.role == Role.BUYER)),
        "factories": await count(select(func.count()).select_from(Factory)),
        "published": await count(
            select(func.count()).where(Assessment.status == AssessmentStatus.PUBLISHED)
        ),
    }


async def test_demo_loads_once(session: AsyncSession) -> None:
    demo = await load_demo(session)
    await session.commit()
    first = await _counts(session)
    assert first["buyers"] == 3
    assert first["factories"] == 12
    assert first["published"] == 8
    assert set(demo.by_role) == set(Role)
    assert {f.country for f in demo.factories} == {"KH", "VN", "BD", "JO"}

    assert demo.consent is not None
    assert demo.consent.status.value == "GRANTED"
    first_seq = demo.consent.ledger_seq

    again = await load_demo(session)
    await session.commit()
    assert await _counts(session) == first
    assert {r: o.id for r, o in again.by_role.items()} == {r: o.id for r, o in demo.by_role.items()}
    assert again.consent is not None
    assert again.consent.ledger_seq == first_seq, "loading again appended consent events"
