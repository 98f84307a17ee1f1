"""Settings read from environment variables, each with a documented default.

Every setting is listed in docs/operations.md; keep the two in step. Values are read strictly: a
boolean, number or enumerated value outside its spellings, and a ``TECHX_*`` variable that is no
setting, stop start-up with one line naming the variable and what it allows.
"""

from __future__ import annotations

import difflib
import functools
import ipaddress
import os
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import time
from pathlib import Path
from typing import Literal

import msgspec

PROJECT_ROOT = Path(__file__).resolve().parents[2]

# TECHX_* variables read by something other than Settings; they are not refused as unknown settings.
NOT_SETTINGS = (
    "TECHX_DEMO",  # make run: seed a fresh embedded database with the demo exchange unless 0
    "TECHX_OPERATOR_PASSWORD",  # techx operator create: the password when --password is not given
    "TECHX_TEST_PG",  # tests: the PostgreSQL admin DSN
)
NOT_SETTINGS_PREFIXES = ("TECHX_BENCH_",)  # bench/*.py: the benchmarks' own knobs

BOOLEANS = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False}

Environment = Literal["development", "production", "test"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]
Backend = Literal["memory", "redis"]
ChannelsBackend = Literal["memory", "redis", "jetstream"]  # jetstream: live events through an outbox and NATS


class SettingsError(ValueError):
    """A setting has a value the exchange cannot run with."""


def _parse_fee_tiers(text: str) -> tuple[tuple[int | None, int], ...]:
    """Parse ``"100000000:100,1000000000:50,:10"`` into ``((upper_fen, basis_points), ...)``.

    Each tier charges its basis points on the part of the price up to its upper bound; the
    last tier has no bound.
    """
    tiers: list[tuple[int | None, int]] = []
    for part in text.split(","):
        upper, _, bp = part.strip().partition(":")
        tiers.append((int(upper) if upper else None, int(bp)))
    if not tiers or tiers[-1][0] is not None:
        raise SettingsError("TECHX_FEE_TIERS: the last tier must have no upper bound (':<bp>')")
    return tuple(tiers)


def _parse_time_of_day(name: str, text: str) -> time:
    """``"HH:MM"`` (24-hour clock) as a time of day."""
    hours, sep, minutes = text.strip().partition(":")
    if not sep or not hours.isdigit() or not minutes.isdigit() or len(minutes) != 2 or len(hours) > 2:
        raise SettingsError(f"{name} must be a time of day HH:MM (24-hour clock), not {text!r}")
    try:
        return time(int(hours), int(minutes))
    except ValueError as exc:
        raise SettingsError(f"{name} must be a time of day HH:MM (24-hour clock), not {text!r}") from exc


@dataclass(frozen=True)
class Settings:
    environment: Environment = "development"
    database_url: str = f"sqlite+aiosqlite:///{PROJECT_ROOT / 'var' / 'techx.db'}"
    keys_dir: Path = PROJECT_ROOT / "var" / "keys"
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: LogLevel = "INFO"
    log_json: bool = True

    token_lifetime_seconds: int = 900  # access tokens; a session lives on through its refresh tokens
    refresh_token_days: int = 30  # a refresh token (and the pages' session cookie) unused this long expires
    email_confirmation_hours: int = 48  # the emailed token confirming a new account's address
    invitation_days: int = 7  # an invitation into an organisation
    password_reset_minutes: int = 30  # the emailed password-reset token
    account_mail_per_hour_per_address: int = 5  # confirmation, reset and invitation mail to one address
    account_mail_per_hour_per_client: int = 20  # password-reset requests per client address
    invitations_per_day_per_org: int = 50
    login_attempts_per_minute: int = 10  # failed logins per email and per client address
    registrations_per_hour_per_client: int = 10  # sign-ups per client address in any hour
    registrations_per_hour_per_network: int = 30  # sign-ups per /24 (IPv4) or /64 (IPv6) in any hour
    rate_limit_backend: Backend = "memory"  # where rate limits count: "memory" (one process) or "redis" (shared)
    trusted_proxies: tuple[str, ...] = ()  # networks (CIDR) whose X-Forwarded-For names the client
    max_request_body_bytes: int = 1024 * 1024
    cors_origins: tuple[str, ...] = ()
    metrics_token: str = ""  # the bearer token Prometheus sends to GET /metrics; empty: /metrics is not served
    db_pool_size: int = 10
    db_retry_attempts: int = 8
    # How long an anonymous public page or JSON read may be answered from memory while public data
    # is unchanged (pages also depend on the clock); 0 turns the cache off. exchange/web/caching.py
    page_cache_seconds: float = 2.0

    announcement_working_days: int = 20
    relist_working_days: int = 5
    negotiated_price_notice_days: int = 15
    deal_result_notice_working_days: int = 5
    redemption_notice_working_days: int = 5
    payment_working_days: int = 5
    instalment_reminder_working_days: int = 3
    offer_expiry_days: int = 6
    max_offers_per_thread: int = 20
    auction_minutes: int = 30
    anti_sniping_minutes: int = 5
    auction_opens_at: str = "10:00"  # Beijing time, on the first working day after the announcement
    deposit_default_bp: int = 1000
    deposit_max_bp: int = 3000
    increment_default_bp: int = 100
    fee_tiers: tuple[tuple[int | None, int], ...] = field(
        default_factory=lambda: _parse_fee_tiers("100000000:100,1000000000:50,:10")
    )
    fee_minimum_fen: int = 100_000
    inventor_reward_bp: int = 7000
    voucher_per_org_cap_fen: int = 30_000_000
    voucher_coverage_bp: int = 5000

    sweep_interval_seconds: float = 5.0
    sweep_max_attempts: int = 8  # a due row that failed this often is set aside until an operator retries it
    sweep_retry_base_seconds: float = 5.0  # the first gap after a row failed; doubled after each failure
    sweep_retry_max_seconds: float = 3600.0
    seal_interval_seconds: float = 60.0
    seal_max_entries: int = 5000
    ledger_origin: str = "techx/ledger"
    channels_backend: ChannelsBackend = "memory"
    redis_url: str = "redis://127.0.0.1:6379/0"

    # payments: card top-ups through Stripe when a key is set; bank transfers always
    stripe_api_key: str = ""
    stripe_api_base: str = ""  # e.g. http://127.0.0.1:8420 for a local Stripe-compatible server
    stripe_webhook_secret: str = ""
    stripe_webhook_tolerance_seconds: int = 300
    stripe_page_size: int = 100  # records per page when listing balance transactions
    reconcile_batch_size: int = 5000
    # the exchange's settlement account, which parties pay into by bank transfer (the wallet page's
    # top-up instructions; an operator records each transfer, matched by the reference quoted)
    settlement_bank_name: str = "招商银行上海分行营业部"
    settlement_account_name: str = "上海技术交易所有限公司"
    settlement_account_number: str = "1219 0860 0010 001"

    # notifications (exchange/notifications, docs/notifications.md)
    notify_interval_seconds: float = 2.0  # how often a server delivers notifications; 0: not in this process
    public_base_url: str = "http://127.0.0.1:8000"  # the links in notifications start with it
    notification_templates_dir: str = ""  # a folder whose zh/ and en/ files replace the built-in texts
    smtp_host: str = ""  # empty: email goes to mail_dir, or is not sent (deliveries marked skipped)
    mail_dir: str = ""  # without an SMTP server: write each email as <delivery id>.eml in this folder
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = True
    mail_from: str = "TechX <noreply@techx.local>"
    webhook_allow_http: bool = False  # development and tests: http:// webhook URLs too
    webhook_allow_private: bool = False  # development and tests: webhooks to loopback and private addresses
    test_clock: bool = False
    # where the test clock starts, seconds ahead of real time: several servers (simulated hosts in
    # cluster/) started with the same offset share one moved time, whenever each of them starts
    test_clock_offset_seconds: int = 0

    # attachments (exchange/documents, docs/documents.md)
    documents_dir: Path = PROJECT_ROOT / "var" / "documents"  # the local store of attached files
    document_max_bytes: int = 20 * 1024 * 1024  # the largest file one upload may attach

    # reads from a PostgreSQL streaming replica (docs/scaling.md, "Reads from a replica"): empty, none
    database_read_url: str = ""  # a hot standby of DATABASE_URL serving the public pages, search and open data
    read_max_lag_seconds: float = 5.0  # a replica further behind than this: public reads use the primary

    # the achievement registry (exchange/registry, docs/registry.md)
    registry_region_code: str = "310"  # the 3-digit region or department code of registration numbers
    # tracking after the deal (exchange/tracking, docs/tracking.md): the buyer's implementation
    # reports are due this many calendar months after the deal settled (1 to 12 offsets, increasing)
    tracking_report_months: tuple[int, ...] = (6, 12, 24, 36)

    # live events through NATS JetStream (TECHX_CHANNELS_BACKEND=jetstream; docs/scaling.md)
    nats_url: str = "nats://127.0.0.1:4222"
    nats_stream: str = "TECHX_EVENTS"  # the stream's name; its subjects are <name in lower case>.>
    outbox_relay_seconds: float = 1.0  # how often the relay looks for rows a process left behind

    @property
    def auction_opening_time(self) -> time:
        return _parse_time_of_day("TECHX_AUCTION_OPENS_AT", self.auction_opens_at)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        env = os.environ if env is None else env
        names = _variable_names()
        for name in sorted(env):
            if name.startswith("TECHX_") and name not in names.values() and not _is_not_a_setting(name):
                raise SettingsError(_unknown(name, names))
        hints = _field_types()
        values: dict[str, object] = {}
        for attribute, name in names.items():
            if name in env:
                values[attribute] = _convert(name, env[name], hints[attribute])
        values.update(overrides)
        settings = cls(**values)  # type: ignore[arg-type]
        settings.check()
        return settings

    def check(self) -> None:
        for attribute, annotation in _field_types().items():
            allowed = typing.get_args(annotation) if typing.get_origin(annotation) is Literal else ()
            if allowed and getattr(self, attribute) not in allowed:
                raise SettingsError(_not_one_of(_variable(attribute), allowed, getattr(self, attribute)))
        if self.test_clock and self.environment != "test":
            # An allow-list, not a deny-list: a misspelt or unexpected environment never gets a movable clock.
            raise SettingsError(
                f"TECHX_TEST_CLOCK needs TECHX_ENVIRONMENT=test (it is {self.environment!r}); "
                "a movable clock is never available in development or production"
            )
        if self.test_clock_offset_seconds and not self.test_clock:
            raise SettingsError("TECHX_TEST_CLOCK_OFFSET_SECONDS needs TECHX_TEST_CLOCK (it moves the test clock)")
        if self.test_clock_offset_seconds < 0:
            raise SettingsError("TECHX_TEST_CLOCK_OFFSET_SECONDS must be 0 or more: the clock only moves forward")
        if self.metrics_token and len(self.metrics_token) < 16:
            raise SettingsError("TECHX_METRICS_TOKEN must have at least 16 characters (or be empty: no /metrics)")
        if not (len(self.registry_region_code) == 3 and self.registry_region_code.isdigit()):
            raise SettingsError("TECHX_REGISTRY_REGION_CODE must be 3 digits (e.g. 310)")
        if self.login_attempts_per_minute < 1:
            raise SettingsError("TECHX_LOGIN_ATTEMPTS_PER_MINUTE must be at least 1")
        if (
            min(
                self.token_lifetime_seconds,
                self.refresh_token_days,
                self.email_confirmation_hours,
                self.invitation_days,
                self.password_reset_minutes,
                self.account_mail_per_hour_per_address,
                self.account_mail_per_hour_per_client,
                self.invitations_per_day_per_org,
            )
            < 1
        ):
            raise SettingsError(
                "TECHX_TOKEN_LIFETIME_SECONDS, _REFRESH_TOKEN_DAYS, _EMAIL_CONFIRMATION_HOURS, _INVITATION_DAYS, "
                "_PASSWORD_RESET_MINUTES and the account mail limits must be at least 1"
            )
        if min(self.registrations_per_hour_per_client, self.registrations_per_hour_per_network) < 1:
            raise SettingsError("TECHX_REGISTRATIONS_PER_HOUR_PER_CLIENT and _PER_NETWORK must be at least 1")
        for proxy in self.trusted_proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError as exc:
                raise SettingsError(f"TECHX_TRUSTED_PROXIES: {proxy!r} is not an address or network (CIDR)") from exc
        if not 0 < self.deposit_default_bp <= self.deposit_max_bp <= 10_000:
            raise SettingsError("deposit basis points must satisfy 0 < default <= max <= 10000")
        if not 0 <= self.inventor_reward_bp <= 10_000:
            raise SettingsError("TECHX_INVENTOR_REWARD_BP must be 0 to 10000 (basis points of the net income)")
        _parse_time_of_day("TECHX_AUCTION_OPENS_AT", self.auction_opens_at)  # refused at start-up, not at close
        if not 0 <= self.instalment_reminder_working_days <= 20:
            raise SettingsError("TECHX_INSTALMENT_REMINDER_WORKING_DAYS must be 0 (no reminders) to 20")
        if not 1 <= self.stripe_page_size <= 100:
            raise SettingsError("TECHX_STRIPE_PAGE_SIZE must be 1 to 100 (Stripe's largest page)")
        if self.sweep_max_attempts < 1 or not 0 < self.sweep_retry_base_seconds <= self.sweep_retry_max_seconds:
            raise SettingsError(
                "TECHX_SWEEP_MAX_ATTEMPTS must be at least 1 and "
                "0 < TECHX_SWEEP_RETRY_BASE_SECONDS <= TECHX_SWEEP_RETRY_MAX_SECONDS"
            )
        if self.notify_interval_seconds < 0:
            raise SettingsError("TECHX_NOTIFY_INTERVAL_SECONDS must be 0 (no delivery in this process) or more")
        if not self.public_base_url.startswith(("http://", "https://")):
            raise SettingsError("TECHX_PUBLIC_BASE_URL must start with http:// or https://")
        if not 1 <= self.smtp_port <= 65535:
            raise SettingsError("TECHX_SMTP_PORT must be 1 to 65535")
        if not 1 <= self.reconcile_batch_size <= 100_000:
            raise SettingsError("TECHX_RECONCILE_BATCH_SIZE must be 1 to 100000")
        if self.document_max_bytes < 1:
            raise SettingsError("TECHX_DOCUMENT_MAX_BYTES must be at least 1")
        if not self.database_url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise SettingsError("DATABASE_URL must use sqlite+aiosqlite:// or postgresql+asyncpg://")
        if self.database_read_url:
            if self.is_sqlite:
                raise SettingsError(
                    "DATABASE_READ_URL needs PostgreSQL: DATABASE_URL is SQLite, which has no replicas "
                    "(unset DATABASE_READ_URL, or run on PostgreSQL)"
                )
            if not self.database_read_url.startswith("postgresql+asyncpg://"):
                raise SettingsError("DATABASE_READ_URL must use postgresql+asyncpg:// (a standby of DATABASE_URL)")
        if not self.read_max_lag_seconds > 0:
            raise SettingsError("TECHX_READ_MAX_LAG_SECONDS must be more than 0")
        months = self.tracking_report_months
        if not (1 <= len(months) <= 12 and all(1 <= m <= 120 for m in months) and list(months) == sorted(set(months))):
            raise SettingsError(
                "TECHX_TRACKING_REPORT_MONTHS must be 1 to 12 increasing months from 1 to 120, e.g. 6,12,24,36"
            )
        if not self.nats_url.startswith(("nats://", "tls://")):
            raise SettingsError("TECHX_NATS_URL must start with nats:// or tls://")
        # A JetStream stream name may not hold spaces, dots, '*', '>' or path separators.
        if not self.nats_stream or not all(c.isascii() and (c.isalnum() or c in "_-") for c in self.nats_stream):
            raise SettingsError("TECHX_NATS_STREAM must be letters, digits, '_' or '-' (e.g. TECHX_EVENTS)")
        if self.outbox_relay_seconds <= 0:
            raise SettingsError("TECHX_OUTBOX_RELAY_SECONDS must be more than 0")


def _variable(attribute: str) -> str:
    if attribute in ("database_url", "database_read_url"):
        return attribute.upper()
    return f"TECHX_{attribute.upper()}"


@functools.cache
def _variable_names() -> dict[str, str]:
    """Each field of Settings and the environment variable that sets it."""
    return {f.name: _variable(f.name) for f in fields(Settings)}


@functools.cache
def _field_types() -> dict[str, object]:
    return typing.get_type_hints(Settings)


def _is_not_a_setting(name: str) -> bool:
    return name in NOT_SETTINGS or name.startswith(NOT_SETTINGS_PREFIXES)


def _unknown(name: str, names: Mapping[str, str]) -> str:
    close = difflib.get_close_matches(name, [*names.values(), *NOT_SETTINGS], n=1)
    hint = f"did you mean {close[0]}?" if close else "the settings are listed in docs/operations.md"
    return f"unknown setting {name} ({hint})"


def _not_one_of(name: str, allowed: typing.Iterable[object], raw: object) -> str:
    return f"{name} must be one of {', '.join(str(a) for a in allowed)} (not {raw!r})"


def _convert(name: str, raw: str, annotation: object) -> object:
    """The value of environment variable ``name`` read as the field's type; SettingsError when it is not one."""
    if name == "TECHX_FEE_TIERS":
        try:
            return _parse_fee_tiers(raw)
        except SettingsError:
            raise
        except ValueError as exc:
            raise SettingsError(f"{name} must be tiers 'upper_fen:bp,...,:bp' (not {raw!r})") from exc
    if name in ("TECHX_CORS_ORIGINS", "TECHX_TRUSTED_PROXIES"):
        return tuple(o.strip() for o in raw.split(",") if o.strip())
    if name == "TECHX_TRACKING_REPORT_MONTHS":
        parts = [p.strip() for p in raw.split(",") if p.strip()]
        if not parts or not all(p.isdigit() for p in parts):
            raise SettingsError(f"{name} must be months separated by commas, e.g. 6,12,24,36 (not {raw!r})")
        return tuple(int(p) for p in parts)
    if typing.get_origin(annotation) is Literal:
        allowed = typing.get_args(annotation)
        for value in allowed:  # one spelling per value, in any case
            if raw.strip().lower() == str(value).lower():
                return value
        raise SettingsError(_not_one_of(name, allowed, raw))
    if annotation is bool:
        if raw.strip().lower() not in BOOLEANS:
            raise SettingsError(_not_one_of(name, BOOLEANS, raw))
        return BOOLEANS[raw.strip().lower()]
    if annotation in (int, float):
        # JSON numbers: no fractions for an integer, no hex, underscores, units, NaN or infinity.
        try:
            return msgspec.json.decode(raw.encode(), type=annotation, strict=True)
        except msgspec.DecodeError as exc:
            kind = "an integer" if annotation is int else "a number"
            raise SettingsError(f"{name} must be {kind} (not {raw!r})") from exc
    if annotation is Path:
        return Path(raw)
    return raw
