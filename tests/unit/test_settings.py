from __future__ import annotations

from pathlib import Path

import pytest

from exchange.platform.settings import Settings, SettingsError


def test_defaults_use_the_embedded_database_and_var_keys():
    settings = Settings.from_env(env={})
    assert settings.database_url.startswith("sqlite+aiosqlite:///") and settings.database_url.endswith("var/techx.db")
    assert settings.keys_dir.parts[-2:] == ("var", "keys")
    assert settings.token_lifetime_seconds == 3600
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
