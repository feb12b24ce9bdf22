"""Event type names, as receivers see them (API.md: webhooks)."""

from __future__ import annotations

CONSENT_REQUESTED = "consent.requested"
CONSENT_GRANTED = "consent.granted"
CONSENT_AMENDED = "consent.amended"
CONSENT_DECLINED = "consent.declined"
CONSENT_REVOKED = "consent.revoked"
CONSENT_EXPIRED = "consent.expired"
ASSESSMENT_PUBLISHED = "assessment.published"
ASSESSMENT_AMENDED = "assessment.amended"
IMPROVEMENT_ACTION_UPDATED = "improvement_action.updated"
ASSESSMENT_REQUEST_FULFILLED = "assessment_request.fulfilled"
FACTORY_MERGED = "factory.merged"
WEBHOOK_DISABLED = "webhook.disabled"

CONSENT_TYPES = frozenset(
    {
        CONSENT_REQUESTED,
        CONSENT_GRANTED,
        CONSENT_AMENDED,
        CONSENT_DECLINED,
        CONSENT_REVOKED,
        CONSENT_EXPIRED,
    }
)
ALL_TYPES = CONSENT_TYPES | {
    ASSESSMENT_PUBLISHED,
    ASSESSMENT_AMENDED,
    IMPROVEMENT_ACTION_UPDATED,
    ASSESSMENT_REQUEST_FULFILLED,
    FACTORY_MERGED,
    WEBHOOK_DISABLED,
}
