"""Settings from the environment. No other module reads ``os.environ``.

| variable | default | meaning |
| --- | --- | --- |
| DATABASE_URL | unset: embedded PostgreSQL | server (postgresql:// or postgresql+asyncpg://) |
| HUB_DATA_DIR | the user's data folder | embedded database and key files |
| HUB_SIGNING_KEY_FILE | DATA_DIR/jwt-signing-keys.json | private JWKS; first signs, all verify |
| HUB_TOKEN_ISSUER | compliance-hub | `iss` of access tokens |
| HUB_TOKEN_AUDIENCE | compliance-hub-api | `aud` of access tokens |
| HUB_TOKEN_LIFETIME | 900 | access-token lifetime in seconds |
| HUB_PRODUCTION | 0 | 1 turns GraphiQL, introspection and field suggestions off |
| HUB_MAX_DEPTH / HUB_MAX_ALIASES / HUB_MAX_TOKENS | 10 / 15 / 2000 | GraphQL document limits |
| HUB_PAGE_MAX | 100 | largest `first` a connection accepts |
| HUB_DB_POOL_SIZE | 10 | connections per process |
| HUB_SWEEP_INTERVAL | 5 | seconds between expiry sweeps; 0 turns the sweeper off |
| HUB_BACKGROUND | 1 | 0 starts no background task (LISTEN, sweeper) in this process |
| HUB_LEDGER_KEY_FILE | DATA_DIR/ledger-ed25519.pem | checkpoint signing key (Ed25519, PEM) |
| HUB_LEDGER_ORIGIN | compliance-hub/consent-ledger | the log's name in checkpoints |
| HUB_CHECKPOINT_INTERVAL | 5 | seconds between checkpoints when the log grew; 0: on demand only |
| HUB_MATCH_HIGH, HUB_MATCH_LOW | 0.90, 0.75 | at or above HIGH links; below LOW creates |
| HUB_ASSESSMENT_VALIDITY_DAYS | 365 | how old a published assessment may be and still be reused |
| HUB_RESPONSE_CACHE_ENTRIES | 2000 | answers kept per process for repeated queries; 0: no cache |
| HUB_MAX_COST | 25000 | largest estimated cost of one request (hub.graphql.cost) |
| HUB_RATE_BUDGET | 100000 | cost points per client a minute, a third at most in any 10 s; 0: off |
| HUB_CLIENT_CONCURRENCY | 4 | requests in flight per client; 0: no cap |
| HUB_TOKEN_RATE | 120 | token requests per client address per minute; 0: off |
| HUB_TOKEN_FAILURES | 10 | failed client authentications per address per minute; 0: off |
| HUB_MAX_BODY | 5000000 | largest request body in bytes |
| HUB_REQUEST_TIMEOUT | 30 | seconds a GraphQL request may run before it is stopped |
| HUB_STATEMENT_TIMEOUT | 20 | seconds one SQL statement may run (PostgreSQL statement_timeout) |
| HUB_WORKERS | 1 | processes serving (set by `hub serve`; budgets are shared out among them) |
| HUB_WEBHOOK_KEY_FILE | DATA_DIR/webhook-secrets.key | encrypts webhook signing secrets at rest |
| HUB_WEBHOOK_DELIVERY | 1 | 0: this process sends no webhooks (others, or a restart, will) |
| HUB_WEBHOOK_TIMEOUT | 10 | seconds a receiver has to answer one delivery |
| HUB_WEBHOOK_RETRY_BASE / _MAX | 10 / 3600 | first retry delay (s), doubling up to the max |
| HUB_WEBHOOK_WINDOW | 86400 | seconds of retries before a delivery fails, and of failures |
|  |  | before an endpoint is disabled |
| HUB_WEBHOOK_POLL | 1 | seconds between looks for due retries (new events wake it at once) |
| HUB_WEBHOOK_CONCURRENCY | 4 | deliveries in flight per endpoint |
| HUB_WEBHOOK_ALLOW_PRIVATE | 0 | 1: production webhooks may reach private addresses too |
| HUB_SECRET_HASH_COST | 14 | scrypt cost (log2 N) of new client secrets and passwords; 10 to 20 |
| HUB_LOG_FORMAT | json | json: one JSON object per line; text: plain lines for a terminal |
| HUB_ACCESS_LOG | 1 | 0: no line per request (set by `hub serve --no-access-log`) |
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import platformdirs

APP_NAME = "compliance-hub"


class ConfigError(ValueError):
    """A setting in the environment cannot be used; the message names it."""


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _number(
    env: Mapping[str, str], name: str, default: float, low: float, high: float, unit: str = ""
) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number{unit}, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low:g} and {high:g}{unit}, got {value:g}")
    return value


def _fraction(env: Mapping[str, str], name: str, default: float) -> float:
    return _number(env, name, default, 0.0, 1.0)


def _seconds(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    return _number(env, name, default, low, high, " of seconds")


def _bool(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise ConfigError(f"{name} must be 0 or 1, got {raw!r}")


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    """One of ``choices``; the first when unset."""
    raw = env.get(name, "").strip().lower() or choices[0]
    if raw not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {raw!r}")
    return raw


def _bool_off(env: Mapping[str, str], name: str) -> bool:
    """True when the variable is set to a false value (default on)."""
    return name in env and env[name] != "" and not _bool(env, name)


def to_async_url(url: str) -> str:
    """The SQLAlchemy asyncpg form of a PostgreSQL URL (libpq URLs are accepted too)."""
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    raise ConfigError(f"DATABASE_URL must be a postgresql:// URL, got {url.split(':', 1)[0]}://…")


@dataclass(frozen=True)
class Settings:
    database_url: str | None
    data_dir: Path
    signing_key_file: Path
    token_issuer: str
    token_audience: str
    token_lifetime: int
    production: bool
    max_depth: int
    max_aliases: int
    max_tokens: int
    page_max: int
    db_pool_size: int
    sweep_interval: int
    background: bool
    ledger_key_file: Path
    ledger_origin: str
    checkpoint_interval: int
    match_high: float
    match_low: float
    assessment_validity_days: int
    response_cache_entries: int
    max_cost: int
    rate_budget: int
    client_concurrency: int
    max_body: int
    token_rate: int
    token_failures: int
    request_timeout: float
    statement_timeout: float
    workers: int
    webhook_key_file: Path
    webhook_delivery: bool
    webhook_timeout: float
    webhook_retry_base: float
    webhook_retry_max: float
    webhook_window: float
    webhook_poll: float
    webhook_concurrency: int
    webhook_allow_private: bool
    log_format: str
    access_log: bool

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        data_dir = Path(env.get("HUB_DATA_DIR") or platformdirs.user_data_dir(APP_NAME))
        url = env.get("DATABASE_URL") or None
        return cls(
            database_url=to_async_url(url) if url else None,
            data_dir=data_dir,
            signing_key_file=Path(
                env.get("HUB_SIGNING_KEY_FILE") or data_dir / "jwt-signing-keys.json"
            ),
            token_issuer=env.get("HUB_TOKEN_ISSUER") or "compliance-hub",
            token_audience=env.get("HUB_TOKEN_AUDIENCE") or "compliance-hub-api",
            token_lifetime=_int(env, "HUB_TOKEN_LIFETIME", 900, 30, 86_400),
            production=_bool(env, "HUB_PRODUCTION"),
            max_depth=_int(env, "HUB_MAX_DEPTH", 10, 2, 50),
            max_aliases=_int(env, "HUB_MAX_ALIASES", 15, 1, 500),
            max_tokens=_int(env, "HUB_MAX_TOKENS", 2000, 100, 100_000),
            page_max=_int(env, "HUB_PAGE_MAX", 100, 1, 1000),
            db_pool_size=_int(env, "HUB_DB_POOL_SIZE", 10, 1, 200),
            sweep_interval=_int(env, "HUB_SWEEP_INTERVAL", 5, 0, 86_400),
            background=not _bool_off(env, "HUB_BACKGROUND"),
            ledger_key_file=Path(env.get("HUB_LEDGER_KEY_FILE") or data_dir / "ledger-ed25519.pem"),
            ledger_origin=env.get("HUB_LEDGER_ORIGIN") or "compliance-hub/consent-ledger",
            checkpoint_interval=_int(env, "HUB_CHECKPOINT_INTERVAL", 5, 0, 86_400),
            match_high=_fraction(env, "HUB_MATCH_HIGH", 0.90),
            match_low=_fraction(env, "HUB_MATCH_LOW", 0.75),
            assessment_validity_days=_int(env, "HUB_ASSESSMENT_VALIDITY_DAYS", 365, 1, 3650),
            response_cache_entries=_int(env, "HUB_RESPONSE_CACHE_ENTRIES", 2000, 0, 1_000_000),
            max_cost=_int(env, "HUB_MAX_COST", 25_000, 10, 100_000_000),
            rate_budget=_int(env, "HUB_RATE_BUDGET", 100_000, 0, 10**12),
            client_concurrency=_int(env, "HUB_CLIENT_CONCURRENCY", 4, 0, 10_000),
            token_rate=_int(env, "HUB_TOKEN_RATE", 120, 0, 10**9),
            token_failures=_int(env, "HUB_TOKEN_FAILURES", 10, 0, 10**9),
            max_body=_int(env, "HUB_MAX_BODY", 5_000_000, 1_000, 1_000_000_000),
            request_timeout=_seconds(env, "HUB_REQUEST_TIMEOUT", 30, 0.1, 3600),
            statement_timeout=_seconds(env, "HUB_STATEMENT_TIMEOUT", 20, 0.1, 3600),
            workers=_int(env, "HUB_WORKERS", 1, 1, 256),
            webhook_key_file=Path(
                env.get("HUB_WEBHOOK_KEY_FILE") or data_dir / "webhook-secrets.key"
            ),
            webhook_delivery=not _bool_off(env, "HUB_WEBHOOK_DELIVERY"),
            webhook_timeout=_seconds(env, "HUB_WEBHOOK_TIMEOUT", 10, 0.1, 120),
            webhook_retry_base=_seconds(env, "HUB_WEBHOOK_RETRY_BASE", 10, 0.01, 86_400),
            webhook_retry_max=_seconds(env, "HUB_WEBHOOK_RETRY_MAX", 3600, 0.01, 86_400),
            webhook_window=_seconds(env, "HUB_WEBHOOK_WINDOW", 86_400, 1, 30 * 86_400),
            webhook_poll=_seconds(env, "HUB_WEBHOOK_POLL", 1, 0.01, 60),
            webhook_concurrency=_int(env, "HUB_WEBHOOK_CONCURRENCY", 4, 1, 100),
            webhook_allow_private=_bool(env, "HUB_WEBHOOK_ALLOW_PRIVATE"),
            log_format=_choice(env, "HUB_LOG_FORMAT", ("json", "text")),
            access_log=not _bool_off(env, "HUB_ACCESS_LOG"),
        )

    @property
    def libpq_url(self) -> str:
        assert self.database_url
        return self.database_url.replace("postgresql+asyncpg://", "postgresql://", 1)

    def with_database(self, url: str) -> Settings:
        return replace(self, database_url=to_async_url(url))


def secret_hash_cost(env: Mapping[str, str] | None = None) -> int:
    """log2 of scrypt's N for new secret hashes (hub.directory.service.hash_secret, which runs
    where no Settings are at hand). Checking a hash uses the cost stored in it, so lowering this
    (the test suite does, to 2^10) never weakens hashes already made."""
    return _int(os.environ if env is None else env, "HUB_SECRET_HASH_COST", 14, 10, 20)


def export_to_workers(workers: int, access_log: bool) -> None:
    """Tell each worker how many share the per-client budgets (HUB_WORKERS) and whether to
    write access lines (workers build their settings from the environment)."""
    os.environ["HUB_WORKERS"] = str(workers)
    os.environ["HUB_ACCESS_LOG"] = "1" if access_log else "0"


def export_database_url(url: str) -> None:
    """Hand a resolved database to child processes (uvicorn workers, alembic)."""
    os.environ["DATABASE_URL"] = url
