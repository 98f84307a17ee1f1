"""Which address a request comes from, behind trusted proxies or not; the server leaves the header to us."""

from __future__ import annotations

import argparse

from exchange.platform.ratelimit import client_address, network_of, trusted_networks
from exchange.platform.settings import Settings

PROXIES = trusted_networks(("10.0.0.0/8", "fd00::/8"))


def test_without_trusted_proxies_the_socket_peer_is_the_client():
    assert client_address("127.0.0.1", "198.51.100.7", ()) == "127.0.0.1"
    assert client_address("203.0.113.9", "198.51.100.7", PROXIES) == "203.0.113.9"
    assert client_address(None, "198.51.100.7", PROXIES) == "unknown"


def test_behind_trusted_proxies_the_right_most_untrusted_forwarded_address_is_the_client():
    assert client_address("10.0.0.1", "198.51.100.7", PROXIES) == "198.51.100.7"
    assert client_address("10.0.0.1", "1.2.3.4, 198.51.100.7, 10.0.0.2", PROXIES) == "198.51.100.7"
    assert client_address("fd00::1", "2001:db8::5", PROXIES) == "2001:db8::5"
    assert client_address("10.0.0.1", None, PROXIES) == "10.0.0.1"
    assert client_address("10.0.0.1", "10.0.0.3, 10.0.0.2", PROXIES) == "10.0.0.3"  # all proxies: the first
    # A malformed entry ends the walk at the last proxy that vouched for something readable.
    assert client_address("10.0.0.1", "198.51.100.7, not-an-ip", PROXIES) == "10.0.0.1"


def test_the_server_does_not_rewrite_the_peer_from_forwarded_headers(monkeypatch):
    import uvicorn

    from exchange.server import cli

    calls: list[dict] = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: calls.append(kwargs))
    monkeypatch.setattr(cli, "_upgrade_database", lambda settings: None)
    monkeypatch.setattr(cli, "serving_app", lambda settings=None: object())
    settings = Settings.from_env(env={})
    for workers in (1, 2):
        cli.cmd_serve(argparse.Namespace(host=None, port=None, workers=workers), settings)
    assert [call.get("proxy_headers") for call in calls] == [False, False]


def test_sign_ups_are_also_counted_per_network():
    assert network_of("203.0.113.77") == "203.0.113.0/24"
    assert network_of("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64"
    assert network_of("::ffff:203.0.113.77") == "203.0.113.0/24"  # IPv4 seen through IPv6
    assert network_of("unknown") == "unknown"
