"""The one settings object. Nothing else in Waybill reads the environment.

Every value comes from ``WAYBILL_*`` environment variables or a ``.env`` file. Credentials are
``SecretStr`` so they never print; outside ``dev``/``test`` a placeholder credential is refused at
start-up, because a service that boots with ``changeme`` as its Odoo key fails later and worse.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Environment = Literal["dev", "test", "staging", "prod"]
OdooProtocol = Literal["jsonrpc", "xmlrpc", "json2"]

PLACEHOLDER_SECRETS = frozenset(
    {
        "",
        "changeme",
        "change-me",
        "secret",
        "password",
        "admin",
        "placeholder",
        "xxx",
        "todo",
        "dev",
        "test",
        "sandbox-key",
    }
)
EMBEDDED = "embedded"
SECRETS_DIRS = ("/run/secrets", "/etc/waybill/secrets")  # files named like the variable


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # index = date.weekday()


class Settings(BaseSettings):
    """Runtime configuration; see README "Configuration" for each variable."""

    model_config = SettingsConfigDict(
        env_prefix="WAYBILL_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        secrets_dir=[p for p in SECRETS_DIRS if Path(p).is_dir()] or None,
    )

    env: Environment = "dev"
    log_level: str = "INFO"
    log_json: bool = True
    access_log: bool = Field(
        default=True,
        description="uvicorn's line per HTTP request. The request metrics and correlation ids "
        "do not need it; at webhook-storm rates it is a tenth of the API's CPU, and it records "
        "client addresses.",
    )

    database_url: str = "sqlite:///./waybill.db"
    redis_url: str = Field(
        default=EMBEDDED,
        description="redis://… for a real server; 'embedded' runs an in-process Redis and queue.",
    )

    odoo_url: str = "http://127.0.0.1:8069"
    odoo_db: str = "waybill-demo"
    odoo_username: str = "admin"
    odoo_api_key: SecretStr = SecretStr("sandbox-key")
    odoo_protocol: OdooProtocol = "jsonrpc"
    odoo_timeout_seconds: float = Field(default=15.0, gt=0, le=300)
    odoo_retry_attempts: int = Field(default=4, ge=1, le=10)
    odoo_page_size: int = Field(default=200, ge=1, le=500)
    odoo_shipper_partner_id: int | None = Field(
        default=None,
        gt=0,
        description="res.partner whose address is the ship-from address (the warehouse).",
    )
    odoo_webhook_timeout_seconds: float = Field(
        default=0.8,
        gt=0,
        description="Budget for re-reading a picking while Odoo waits on its webhook (1 s timeout "
        "on Odoo's side); past it the hint is stored and settled in the background.",
    )
    odoo_write_settle_seconds: float = Field(
        default=0.2,
        ge=0,
        le=5,
        description="Before a drain, wait until no Odoo write has been queued for this long "
        "(at most odoo_write_settle_max_seconds): writes arriving together then go to Odoo in "
        "one create per kind instead of one RPC each. 0 drains at once.",
    )
    odoo_write_settle_max_seconds: float = Field(
        default=1.0,
        ge=0,
        le=30,
        description="The longest a drain waits for writes still arriving.",
    )

    poll_interval_seconds: float = Field(default=30.0, gt=0)
    poll_overlap_seconds: int = Field(
        default=180,
        ge=120,
        description="Odoo's automation webhook fires before commit and write_date is set at "
        "transaction start, so each poll re-reads this much of the past.",
    )

    carrier_accounts: SecretStr | None = Field(
        default=None,
        description="Carrier accounts as JSON text or a path to a JSON file (credentials inside).",
    )
    carrier_map: str | None = Field(
        default=None,
        description='JSON: Odoo delivery.carrier name or id → {"account": id, "service": code}.',
    )
    parcel_max_weight_kg: float | None = Field(
        default=30.0,
        gt=0,
        description="Without package data in Odoo, a picking heavier than this is packed into "
        "equal boxes of at most this weight (one label each). Empty: always one parcel.",
    )
    customs_catalog: str | None = Field(
        default=None,
        description="JSON text or file: product default_code → hs_code, unit_value, currency, "
        "origin_country. Needed for cross-border pickings.",
    )
    triage_team_users: str | None = Field(
        default=None,
        description="JSON: team → Odoo res.users id for triage activities, e.g. "
        '{"customer service": 7, "trade compliance": 9}.',
    )
    recommender_min_on_time: float = Field(
        default=0.9, ge=0, le=1, description="Auto-book only above this on-time probability."
    )
    recommender_max_price_delta: float = Field(
        default=5.0, ge=0, description="Auto-book only this much above the cheapest quote."
    )
    recommender_allowed_carriers: list[str] | None = None
    recommender_costs: str | None = Field(
        default=None,
        description="JSON text or file: cost of lateness and of an exception per customer tier "
        '(e.g. {"currency": "EUR", "tiers": {"standard": {"late": 12, "exception": 20}}}); '
        "default: <data_dir>/recommender-costs.json, else built-in figures.",
    )
    warehouse_cutoff: str = Field(
        default="16:00",
        pattern=r"^([01]\d|2[0-3]):[0-5]\d$",
        description="Local time (HH:MM) after which today's parcels no longer leave today.",
    )
    warehouse_timezone: str = Field(default="UTC", description="IANA zone of the warehouse.")
    warehouse_days: str = Field(
        default="mon,tue,wed,thu,fri", description="Weekdays the carriers collect."
    )
    approval_escalate_minutes: int = Field(
        default=60,
        ge=0,
        description="A dispatcher approval still open this close to the cut-off is escalated.",
    )
    approval_escalation_user_id: int | None = Field(
        default=None,
        description="Odoo res.users id (shift lead) who receives escalated approvals; empty: "
        "the activity stays with its assignee and is marked urgent.",
    )
    auto_book: bool = Field(default=True, description="Book new intents without a person.")
    rate_shop_workers: int = Field(default=8, ge=1, le=64)

    webhook_platform_secrets: SecretStr | None = Field(
        default=None,
        description='JSON: tracking platform → webhook secret, e.g. {"aftership": "...", '
        '"sendcloud": "..."}. Carrier accounts carry their own webhook secrets.',
    )
    at_risk_threshold: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="Probability of missing the promise above which customer service gets an "
        "at-risk activity. Empty: the value chosen on history (app.sync.alerts.at_risk).",
    )
    tracking_poll_after_hours: float = Field(
        default=12.0, gt=0, description="Poll a shipment's carrier when silent this long."
    )
    tracking_poll_batch: int = Field(
        default=50, ge=1, le=1000, description="Most tracking numbers polled per account a cycle."
    )

    outbound_webhooks: SecretStr | None = Field(
        default=None,
        description='JSON list of subscribers: [{"name", "url", "secret", "events": ["*"]}].',
    )

    webhook_max_body_bytes: int = Field(default=256 * 1024, gt=0)
    webhook_queue_max_bytes: int = Field(
        default=64 * 1024 * 1024,
        gt=0,
        description="Webhook bodies an API process holds while they wait for the next write; "
        "past it a sender gets 503 with Retry-After (carriers retry) instead of the process "
        "growing without bound.",
    )
    odoo_webhook_token: SecretStr = SecretStr("sandbox-key")

    api_key_pepper: SecretStr = Field(
        default=SecretStr("dev"),
        description="HMAC key for API-key hashes (>= 32 chars outside dev/test); changing it "
        "invalidates every key.",
    )
    bootstrap_admin_key: SecretStr | None = None
    allow_dev_api_key: bool = False
    rate_limit_per_minute: int = Field(default=600, ge=0, description="Per API key; 0 = off.")
    rate_limit_burst: int = Field(default=120, ge=1)
    raw_payload_retention_days: int = Field(default=90, ge=1)

    data_dir: Path = Path("./var")
    mlflow_tracking_uri: str = Field(
        default="sqlite:///./var/mlflow.db",
        description="MLflow tracking and registry store; the service loads models by alias.",
    )
    model_alias: str = Field(default="champion", description="Registry alias served.")

    carrier_rate_per_second: float = Field(
        default=10.0,
        ge=0,
        description="Calls per second per carrier account, shared by every worker; 0 = off. "
        'An account overrides it with options.rate_limit = {"per_second": …, "burst": …}.',
    )
    carrier_rate_burst: int = Field(default=20, ge=1, description="Calls allowed at once.")
    carrier_rate_max_wait_seconds: float = Field(
        default=2.0,
        ge=0,
        description="A throttled call waits this long at most for a token; past it the job is "
        "deferred (retried later), never failed.",
    )
    worker_heartbeat_seconds: int = Field(
        default=10, ge=1, description="How often a worker proves it is still running its job."
    )
    worker_abandon_after_seconds: int = Field(
        default=60,
        ge=1,
        description="A started job whose worker missed heartbeats this long is abandoned: "
        "retried (or dead-lettered) by the next registry maintenance.",
    )
    worker_maintenance_seconds: int = Field(
        default=60, ge=1, description="How often a worker recovers abandoned jobs."
    )
    worker_nice: int = Field(
        default=0,
        ge=0,
        le=19,
        description="Lower the worker's CPU priority by this much (os.nice). Where workers share "
        "cores with the API, projection and bookings then yield to acknowledging webhooks and "
        "catch up after a burst; on their own machines leave it at 0.",
    )
    worker_fork_per_job: bool = Field(
        default=True,
        description="Run each job in a forked work-horse (isolated; RQ's default). False runs "
        "jobs in the worker process: about twice the bookings per core, connections and caches "
        "kept warm, but a crashing job takes its worker down (see app/core/worker.py).",
    )

    @field_validator("warehouse_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("warehouse_days")
    @classmethod
    def _known_weekdays(cls, value: str) -> str:
        days = [d.strip().lower()[:3] for d in value.split(",") if d.strip()]
        unknown = [d for d in days if d not in WEEKDAYS]
        if unknown or not days:
            raise ValueError(f"weekdays must be among {', '.join(WEEKDAYS)}; got {value!r}")
        return ",".join(days)

    @model_validator(mode="after")
    def _refuse_placeholders_in_production(self) -> Settings:
        if self.env in ("dev", "test"):
            return self
        bad = [
            name
            for name, value in self._secrets().items()
            if value.get_secret_value().strip().lower() in PLACEHOLDER_SECRETS
        ]
        if bad:
            raise ValueError(
                f"placeholder credentials are not allowed in env={self.env!r}: "
                + ", ".join(f"WAYBILL_{n.upper()}" for n in sorted(bad))
            )
        return self

    def _secrets(self) -> dict[str, SecretStr]:
        return {k: v for k, v in self.__dict__.items() if isinstance(v, SecretStr)}

    @property
    def redis_embedded(self) -> bool:
        return self.redis_url == EMBEDDED


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; tests build their own ``Settings`` instead of patching this."""
    return Settings()
