"""Translations for the console. Strings are marked with ``_()`` in templates and code and
extracted with Babel (`pybabel extract -F babel.cfg -o hub/console/locales/messages.pot .`);
a language is served once its catalogue is compiled under ``locales/<lang>/LC_MESSAGES``.
Khmer, Vietnamese and Bengali are where the factories are."""

from __future__ import annotations

import gettext
from functools import lru_cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.support import NullTranslations, Translations

LOCALES = Path(__file__).parent / "locales"
OFFERED = ("en", "km", "vi", "bn")


def negotiate(accept_language: str | None) -> str:
    wanted = []
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().replace("-", "_")
        if tag and tag != "*":
            wanted.append(tag)
    try:
        return str(Locale.negotiate(wanted, OFFERED, sep="_") or "en")
    except (UnknownLocaleError, ValueError):
        return "en"


@lru_cache(maxsize=len(OFFERED))
def translations(language: str) -> gettext.NullTranslations:
    found = Translations.load(LOCALES, [language], domain="messages")
    return found if isinstance(found, Translations) else NullTranslations()


def N_(text: str) -> str:
    """Marks a string for extraction; it is translated where it is shown."""
    return text


# what the API's codes are called on a page
LABELS = {
    "SUMMARY": N_("Summary"),
    "FINDINGS": N_("Findings"),
    "IMPROVEMENT_PLAN": N_("Improvement plan"),
    "PENDING": N_("Pending"),
    "IN_PROGRESS": N_("In progress"),
    "COMPLETED": N_("Completed"),
    "REQUESTED": N_("Requested"),
    "GRANTED": N_("Granted"),
    "DECLINED": N_("Declined"),
    "REVOKED": N_("Revoked"),
    "EXPIRED": N_("Expired"),
}
