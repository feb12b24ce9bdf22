"""The compliance-point catalogue shipped with the hub (catalogue.json beside this file).

Question codes are ``<CLUSTER>.<AREA>.<NN>`` (e.g. ``OSH.EMR.03``); country-specific questions
carry the country in their code (``COM.PRE.KH1``). Codes are stable: answers refer to them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from hub.assessments.models import Cluster


@dataclass(frozen=True)
class CatalogueQuestion:
    code: str
    cluster: Cluster
    area: str
    text: str
    country: str | None
    position: int
    # country -> legal reference
    references: dict[str, str]


@cache
def load_catalogue() -> tuple[CatalogueQuestion, ...]:
    raw: dict[str, Any] = json.loads(
        resources.files("hub.assessments").joinpath("catalogue.json").read_text("utf-8")
    )
    questions: list[CatalogueQuestion] = []
    for cluster_name, cluster in raw["clusters"].items():
        for area in cluster["areas"]:
            refs = {**cluster["references"], **area.get("references", {})}
            for n, text in enumerate(area["questions"], start=1):
                questions.append(
                    CatalogueQuestion(
                        code=f"{area['code']}.{n:02d}",
                        cluster=Cluster(cluster_name),
                        area=area["name"],
                        text=text,
                        country=None,
                        position=len(questions),
                        references=refs,
                    )
                )
    for q in raw["country_questions"]:
        questions.append(
            CatalogueQuestion(
                code=q["code"],
                cluster=Cluster(q["cluster"]),
                area=q["area"],
                text=q["text"],
                country=q["country"],
                position=len(questions),
                references={q["country"]: q["reference"]},
            )
        )
    return tuple(questions)


def catalogue_countries() -> dict[str, str]:
    raw = json.loads(
        resources.files("hub.assessments").joinpath("catalogue.json").read_text("utf-8")
    )
    return dict(raw["countries"])
