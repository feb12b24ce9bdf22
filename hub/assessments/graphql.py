"""GraphQL types and thin resolvers of the compliance-point catalogue."""

from __future__ import annotations

import strawberry

from hub.assessments import models
from hub.assessments.service import CatalogueService
from hub.graphql.context import Info

strawberry.enum(models.Cluster, name="Cluster")


@strawberry.type
class Question:
    code: str
    cluster: models.Cluster
    area: str
    text: str
    legal_reference: str | None
    country: str | None = strawberry.field(description="Set for a country-specific question.")


@strawberry.type
class AssessmentsQuery:
    @strawberry.field(
        description="The compliance-point catalogue: general questions plus, with a country, "
        "that country's own, each with its legal reference there."
    )
    async def questions(
        self, info: Info, country: str | None = None, cluster: models.Cluster | None = None
    ) -> list[Question]:
        async with info.context.db.session() as session:
            rows = await CatalogueService(session).questions(country=country, cluster=cluster)
        return [
            Question(
                code=q.code,
                cluster=q.cluster,
                area=q.area,
                text=q.text,
                legal_reference=ref,
                country=q.country,
            )
            for q, ref in rows
        ]
