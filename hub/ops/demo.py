"""Demo data, loaded through the service layer and safe to load again.

3 buyers, 12 factories in KH, VN, BD and JO (two of them claimed by a factory organisation),
an assessor, an auditor and an admin, published assessments for most factories.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from hub.assessments.catalogue import load_catalogue
from hub.assessments.repository import AssessmentRepository
from hub.assessments.service import Answer, AssessmentService, NewAssessment, PlannedAction
from hub.auth.principal import Principal
from hub.authz.service import Authorizer, RequestAuthz
from hub.consent.models import Consent, ConsentScope
from hub.consent.service import ConsentService
from hub.directory.models import Factory, Organization, Role
from hub.directory.repository import DirectoryRepository
from hub.directory.service import DirectoryService, NewFactory, NewOrganization

BUYERS = [("Northwind Apparel", "GB"), ("Maple & Thread", "CA"), ("Fjord Outdoor", "NO")]
ASSESSOR = ("Demo Assessment Programme", "KH")
AUDITOR = ("Independent Ledger Auditors", "CH")
ADMIN = ("Hub Operations", None)

FACTORIES = [
    NewFactory(
        "Angkor Garment Co., Ltd.",
        "KH",
        "Street 598, Phnom Penh",
        "KH2026001ABCD",
        "KH-00412",
        "garment",
        2400,
    ),
    NewFactory(
        "Mekong Knitwear Factory",
        "KH",
        "National Road 4, Kandal",
        None,
        "KH-00977",
        "garment",
        1300,
    ),
    NewFactory("Siem Reap Textiles", "KH", "Road 6, Siem Reap", None, None, "textile", 620),
    NewFactory(
        "Saigon Stitch Joint Stock Company",
        "VN",
        "Tan Thuan EPZ, Ho Chi Minh City",
        "VN2026002EFGH",
        "0301234567",
        "garment",
        3100,
    ),
    NewFactory(
        "Hanoi Apparel Co., Ltd.", "VN", "Thang Long IP, Hanoi", None, "0107654321", "garment", 1800
    ),
    NewFactory("Da Nang Footwear", "VN", "Hoa Khanh IP, Da Nang", None, None, "footwear", 2700),
    NewFactory(
        "Dhaka Denim Ltd.",
        "BD",
        "Ashulia, Savar, Dhaka",
        "BD2026003IJKL",
        "C-45213",
        "garment",
        4200,
    ),
    NewFactory(
        "Chittagong Knit Composite", "BD", "CEPZ, Chattogram", None, "C-78102", "garment", 3600
    ),
    NewFactory("Gazipur Sweaters Ltd.", "BD", "Konabari, Gazipur", None, None, "garment", 1500),
    NewFactory(
        "Al-Hassan Garments",
        "JO",
        "Al-Hassan Industrial Estate, Irbid",
        "JO2026004MNOP",
        "JO-1187",
        "garment",
        2100,
    ),
    NewFactory(
        "Dead Sea Apparel Manufacturing",
        "JO",
        "Al-Tajamouat Industrial City, Amman",
        None,
        "JO-2290",
        "garment",
        900,
    ),
    NewFactory(
        "Aqaba Textile Company", "JO", "Aqaba Special Economic Zone", None, None, "textile", 450
    ),
]
# the factories that have their own organisation (they can grant consent)
CLAIMED = {"Angkor Garment Co., Ltd.", "Saigon Stitch Joint Stock Company"}
# the factories without a published assessment yet
UNASSESSED = {
    "Siem Reap Textiles",
    "Gazipur Sweaters Ltd.",
    "Aqaba Textile Company",
    "Da Nang Footwear",
}
CYCLE = "2026-1"


@dataclass
class DemoOrgs:
    by_role: dict[Role, Organization]
    buyers: list[Organization]
    factories: list[Factory]
    consent: Consent | None = None  # the first factory's grant to the first buyer


async def load_demo(session: AsyncSession) -> DemoOrgs:
    directory = DirectoryService(session)
    repo = DirectoryRepository(session)

    async def org(role: Role, name: str, country: str | None) -> Organization:
        found = await repo.organization_named(role, name)
        if found is None:
            found, _ = await directory.create_organization(NewOrganization(role, name, country))
        return found

    buyers = [await org(Role.BUYER, n, c) for n, c in BUYERS]
    assessor = await org(Role.ASSESSOR, *ASSESSOR)
    by_role = {
        Role.BUYER: buyers[0],
        Role.ASSESSOR: assessor,
        Role.AUDITOR: await org(Role.AUDITOR, *AUDITOR),
        Role.ADMIN: await org(Role.ADMIN, *ADMIN),
    }
    factories: list[Factory] = []
    for spec in FACTORIES:
        factory = await repo.factory_named(spec.name, spec.country)
        if factory is None:
            factory = await directory.create_factory(spec)
        factories.append(factory)
        if spec.name in CLAIMED and factory.claimed_by_org_id is None:
            owner, _ = await directory.create_organization(
                NewOrganization(Role.FACTORY, spec.name, spec.country, claim=factory.hub_id)
            )
            by_role.setdefault(Role.FACTORY, owner)
        elif spec.name in CLAIMED and Role.FACTORY not in by_role:
            owner_org = await repo.organization(factory.claimed_by_org_id)  # type: ignore[arg-type]
            if owner_org is not None:
                by_role[Role.FACTORY] = owner_org
    await _load_assessments(session, assessor, factories)
    demo = DemoOrgs(by_role=by_role, buyers=buyers, factories=factories)
    demo.consent = await _load_consents(session, demo)
    return demo


async def _load_consents(session: AsyncSession, demo: DemoOrgs) -> Consent:
    """Angkor grants Northwind SUMMARY and FINDINGS; Saigon grants Maple & Thread SUMMARY;
    Fjord asks Angkor for access. Granting again with the same terms changes nothing."""
    authorizer = Authorizer()
    repo = DirectoryRepository(session)

    def acting(org: Organization) -> ConsentService:
        principal = Principal(org.id, org.role, "demo", "demo", 0)
        return ConsentService(session, RequestAuthz(authorizer, principal))

    owners = {}
    for factory in demo.factories:
        if factory.claimed_by_org_id is not None:
            owner = await repo.organization(factory.claimed_by_org_id)
            assert owner is not None
            owners[factory.name] = owner
    angkor, saigon = owners["Angkor Garment Co., Ltd."], owners["Saigon Stitch Joint Stock Company"]
    northwind, maple, fjord = demo.buyers
    granted = await acting(angkor).grant(
        northwind.id, [ConsentScope.SUMMARY, ConsentScope.FINDINGS], None
    )
    await acting(saigon).grant(maple.id, [ConsentScope.SUMMARY], None)
    angkor_factory = next(f for f in demo.factories if f.claimed_by_org_id == angkor.id)
    await acting(fjord).request_access(
        angkor_factory.id, [ConsentScope.SUMMARY], "We are onboarding you for 2027."
    )
    return granted


async def _load_assessments(
    session: AsyncSession, assessor: Organization, factories: list[Factory]
) -> None:
    service = AssessmentService(session)
    repo = AssessmentRepository(session)
    questions = load_catalogue()
    for factory in factories:
        if factory.name in UNASSESSED or await repo.current_version(factory.id, CYCLE):
            continue
        # the same answers on every run: seeded by the factory's name
        rng = random.Random(factory.name)
        applicable = [q for q in questions if q.country in (None, factory.country)]
        answers = tuple(
            Answer(q.code, compliant=rng.random() > 0.12, comment=None) for q in applicable
        )
        plan = tuple(
            PlannedAction(a.question_code, f"Remediate {a.question_code}", date(2026, 12, 31))
            for a in answers
            if not a.compliant
        )[:5]
        assessed_at = date(2026, 3, 1) + timedelta(days=rng.randrange(120))
        assessment = await service.submit(
            assessor.id, NewAssessment(factory.id, CYCLE, assessed_at, answers, plan)
        )
        await service.publish(assessor.id, assessment.id)
