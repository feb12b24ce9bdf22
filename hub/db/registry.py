"""Imports every model module so that ``Base.metadata`` knows the whole schema (Alembic)."""

from hub.accounts import models as accounts_models
from hub.assessments import models as assessments_models
from hub.consent import models as consent_models
from hub.db import revisions as revisions_models
from hub.db.base import Base
from hub.directory import models as directory_models
from hub.disclosures import models as disclosures_models
from hub.documents import models as documents_models
from hub.events import models as events_models
from hub.ledger import models as ledger_models
from hub.matching import models as matching_models
from hub.webhooks import models as webhooks_models

__all__ = [
    "Base",
    "accounts_models",
    "assessments_models",
    "consent_models",
    "directory_models",
    "disclosures_models",
    "documents_models",
    "events_models",
    "ledger_models",
    "matching_models",
    "revisions_models",
    "webhooks_models",
]
