from __future__ import annotations

from pathlib import Path

import pytest

from exchange.platform.settings import Settings, SettingsError


def test_defaults_use_the_embedded_database_and_var_keys():
    settings = Settings.from_env(env={})
    assert settings.database_url.startswith("sqlite+aiosqlite:///") and settings.database_url.endswith("var/techx.db")
    assert settings.keys_dir.parts[-2:] == ("var", "keys")
    assert settings.token_lifetime_seconds == 900  # access tokens are short; sessions live on by refresh tokens
    assert settings.announcement_working_days == 20
    assert settings.fee_tiers == ((100_000_000, 100), (1_000_000_000, 50), (None, 10))


def test_environment_variables_override_defaults():
    settings = Settings.from_env(
        env={
            "DATABASE_URL": "postgresql+asyncpg://u@h/db",
            "TECHX_TOKEN_LIFETIME_SECONDS": "120",
            "TECHX_KEYS_DIR": "/etc/techx/keys",
            "TECHX_LOG_JSON": "false",
            "TECHX_CORS_ORIGINS": "https://a.example, https://b.example",
            "TECHX_FEE_TIERS": "500:100,:50",
            "TECHX_TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.7",
            "TECHX_RATE_LIMIT_BACKEND": "redis",
        }
    )
    assert settings.trusted_proxies == ("10.0.0.0/8", "192.0.2.7")
    assert settings.rate_limit_backend == "redis"
    assert settings.database_url == "postgresql+asyncpg://u@h/db"
    assert settings.token_lifetime_seconds == 120
    assert settings.keys_dir == Path("/etc/techx/keys")
    assert settings.log_json is False
    assert settings.cors_origins == ("https://a.example", "https://b.example")
    assert settings.fee_tiers == ((500, 100), (None, 50))


@pytest.mark.parametrize(
    "env",
    [
        {"TECHX_TEST_CLOCK": "1", "TECHX_ENVIRONMENT": "production"},
        {"DATABASE_URL": "mysql://x"},
        {"TECHX_TOKEN_LIFETIME_SECONDS": "soon"},
        {"TECHX_FEE_TIERS": "100:10"},
        {"TECHX_DEPOSIT_DEFAULT_BP": "4000"},
        {"TECHX_INSTALMENT_REMINDER_WORKING_DAYS": "-1"},
        {"TECHX_TRUSTED_PROXIES": "10.0.0.0/8,proxy.internal"},
        {"TECHX_RATE_LIMIT_BACKEND": "memcached"},
        {"TECHX_LOGIN_ATTEMPTS_PER_MINUTE": "0"},
        {"TECHX_METRICS_TOKEN": "short"},
        {"TECHX_REGISTRATIONS_PER_HOUR_PER_NETWORK": "0"},
    ],
)
def test_settings_the_exchange_cannot_run_with_are_refused(env):
    with pytest.raises(SettingsError):
        Settings.from_env(env=env)


def _refusal(env: dict[str, str]) -> str:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env(env=env)
    message = str(refused.value)
    assert "\n" not in message
    return message


def test_a_misspelt_boolean_is_refused_naming_the_variable_and_the_allowed_values():
    message = _refusal({"TECHX_LOG_JSON": "ture"})
    assert message.startswith("TECHX_LOG_JSON ")
    assert "'ture'" in message and "true, false, 1, 0, yes, no" in message


@pytest.mark.parametrize(
    ("text", "value"),
    [("true", True), ("TRUE", True), ("1", True), ("Yes", True), ("false", False), ("0", False), ("no", False)],
)
def test_booleans_are_true_false_1_0_yes_or_no_in_any_case(text, value):
    assert Settings.from_env(env={"TECHX_LOG_JSON": text}).log_json is value


@pytest.mark.parametrize("text", ["on", "off", "", "2", "y"])
def test_other_boolean_spellings_are_refused(text):
    assert "TECHX_LOG_JSON" in _refusal({"TECHX_LOG_JSON": text})


def test_an_environment_outside_the_three_is_refused_listing_them():
    message = _refusal({"TECHX_ENVIRONMENT": "prod"})
    assert message.startswith("TECHX_ENVIRONMENT ")
    assert "'prod'" in message and "development, production, test" in message


@pytest.mark.parametrize(
    ("name", "bad", "allowed"),
    [
        ("TECHX_LOG_LEVEL", "verbose", "DEBUG, INFO, WARNING, ERROR"),
        ("TECHX_CHANNELS_BACKEND", "kafka", "memory, redis, jetstream"),
        ("TECHX_RATE_LIMIT_BACKEND", "memcached", "memory, redis"),
    ],
)
def test_every_enumerated_setting_is_refused_outside_its_values(name, bad, allowed):
    message = _refusal({name: bad})
    assert message.startswith(f"{name} ") and allowed in message


@pytest.mark.parametrize(
    ("name", "bad"),
    [
        ("TECHX_NATS_URL", "http://127.0.0.1:4222"),
        ("TECHX_NATS_STREAM", "techx.events"),  # a dot would split the stream's subjects
        ("TECHX_NATS_STREAM", ""),
        ("TECHX_OUTBOX_RELAY_SECONDS", "0"),
    ],
)
def test_the_jetstream_settings_are_refused_when_nats_could_not_use_them(name, bad):
    assert _refusal({"TECHX_CHANNELS_BACKEND": "jetstream", name: bad}).startswith(name)


def test_enumerated_values_are_read_in_any_case_and_kept_in_their_own():
    settings = Settings.from_env(env={"TECHX_ENVIRONMENT": "Production", "TECHX_LOG_LEVEL": "debug"})
    assert (settings.environment, settings.log_level) == ("production", "DEBUG")


def test_an_enumerated_override_is_checked_like_the_environment_variable():
    with pytest.raises(SettingsError, match="TECHX_ENVIRONMENT"):
        Settings.from_env(env={}, environment="prod")


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("TECHX_PORT", "80.5"),
        ("TECHX_PORT", "1e3"),
        ("TECHX_PORT", "0x50"),
        ("TECHX_PORT", ""),
        ("TECHX_DB_POOL_SIZE", "true"),
        ("TECHX_SWEEP_INTERVAL_SECONDS", "nan"),
        ("TECHX_SWEEP_INTERVAL_SECONDS", "inf"),
        ("TECHX_SWEEP_INTERVAL_SECONDS", "5s"),
    ],
)
def test_numbers_are_read_strictly_without_truncation(name, text):
    message = _refusal({name: text})
    assert message.startswith(f"{name} ") and repr(text) in message


def test_numbers_are_read_from_their_plain_spelling():
    settings = Settings.from_env(env={"TECHX_PORT": " 8080 ", "TECHX_SWEEP_INTERVAL_SECONDS": "2.5"})
    assert (settings.port, settings.sweep_interval_seconds) == (8080, 2.5)
    assert Settings.from_env(env={"TECHX_SEAL_INTERVAL_SECONDS": "30"}).seal_interval_seconds == 30.0


def test_an_unknown_techx_variable_is_refused_with_the_closest_setting():
    message = _refusal({"TECHX_LOG_JSNO": "true"})
    assert message == "unknown setting TECHX_LOG_JSNO (did you mean TECHX_LOG_JSON?)"


def test_an_unknown_techx_variable_without_a_close_setting_points_at_the_list():
    message = _refusal({"TECHX_ZZZZZZ": "1"})
    assert message.startswith("unknown setting TECHX_ZZZZZZ ") and "docs/operations.md" in message


def test_the_variables_other_tools_read_are_not_settings_and_are_accepted():
    env = {
        "TECHX_DEMO": "0",
        "TECHX_TEST_PG": "postgresql://postgres@127.0.0.1:5432/postgres",
        "TECHX_OPERATOR_PASSWORD": "operator-secret-1",
        "TECHX_BENCH_SECONDS": "20",
        "TECHX_BENCH_CASES": "0,1r",
        "TECHX_BENCH_PG": "postgresql://postgres@127.0.0.1:5432/postgres",
        "PATH": "/usr/bin",
        "DATABASE_URL": "sqlite+aiosqlite:///x.db",
    }
    assert Settings.from_env(env=env).database_url == "sqlite+aiosqlite:///x.db"


def test_a_read_replica_is_refused_beside_sqlite_and_names_the_setting():
    replica = "postgresql+asyncpg://postgres@standby:5432/techx"
    with pytest.raises(SettingsError) as refused:
        Settings.from_env(env={"DATABASE_URL": "sqlite+aiosqlite:///x.db", "DATABASE_READ_URL": replica})
    assert str(refused.value).startswith("DATABASE_READ_URL needs PostgreSQL")
    with pytest.raises(SettingsError, match="DATABASE_READ_URL must use postgresql"):
        Settings.from_env(env={"DATABASE_URL": "postgresql+asyncpg://u@h/db", "DATABASE_READ_URL": "sqlite:///r.db"})
    with pytest.raises(SettingsError, match="TECHX_READ_MAX_LAG_SECONDS"):
        Settings.from_env(env={"TECHX_READ_MAX_LAG_SECONDS": "0"})
    settings = Settings.from_env(
        env={
            "DATABASE_URL": "postgresql+asyncpg://u@h/db",
            "DATABASE_READ_URL": replica,
            "TECHX_READ_MAX_LAG_SECONDS": "2.5",
        }
    )
    assert (settings.database_read_url, settings.read_max_lag_seconds) == (replica, 2.5)
