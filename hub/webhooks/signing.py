"""A delivery's body and headers, signed the Standard Webhooks way (the `standardwebhooks`
package: HMAC-SHA256 over "{id}.{timestamp}.{body}", header `webhook-signature: v1,<base64>`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from standardwebhooks.webhooks import Webhook


def body(event_type: str, at: datetime, data: dict[str, Any]) -> bytes:
    return orjson.dumps({"type": event_type, "timestamp": at.isoformat(), "data": data})


def headers(
    secret: str, event_id: str, payload: bytes, now: datetime | None = None
) -> dict[str, str]:
    sent = (now or datetime.now(UTC)).replace(microsecond=0)
    signature = Webhook(secret).sign(event_id, sent, payload.decode())
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(sent.timestamp())),
        "webhook-signature": signature,
        "content-type": "application/json",
        "user-agent": "compliance-hub-webhooks/1",
    }
