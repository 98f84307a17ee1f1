"""The notifications' pure rules: the catalogue covers every kind with a text in each language,
mandatory kinds stay on, back-off ends within 24 hours, signatures and the SSRF address rules."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from datetime import UTC, datetime, timedelta

import pytest

from exchange.notifications.domain import (
    CATALOGUE,
    RETRIES,
    Channel,
    Language,
    MandatoryKind,
    UnknownKind,
    WebhookUrlRefused,
    address_refusal,
    check_addresses,
    check_switches,
    info,
    link_path,
    parse_webhook_url,
    signature,
    wants,
)
from exchange.notifications.texts import Texts
from exchange.platform.outbox import Kind

T0 = datetime(2027, 1, 28, 8, 0, tzinfo=UTC)


def test_every_kind_has_a_catalogue_entry_and_a_template_in_each_language():
    texts = Texts("https://techx.example")
    assert set(CATALOGUE) == {k.value for k in Kind}
    for kind, entry in CATALOGUE.items():
        assert entry.audience and entry.channels
        for language in Language:
            assert texts.has_template(language.value, kind), (language, kind)


def test_account_mail_is_email_only_mandatory_and_operator_and_money_kinds_cannot_be_switched_off():
    for kind in Kind:
        entry = CATALOGUE[kind.value]
        if kind.value.startswith("account."):
            assert entry.email_only and entry.mandatory and not entry.inbox
        if kind.value.startswith("operator."):
            assert entry.mandatory and entry.inbox and Channel.WEBHOOK not in entry.channels
    for kind in (
        Kind.PAYMENT_DUE,
        Kind.PAYMENT_DEFAULTED,
        Kind.DEAL_SETTLED,
        Kind.WITHDRAWAL_PAID,
        Kind.WITHDRAWAL_REJECTED,
        Kind.DEPOSIT_HELD,
        Kind.DEPOSIT_RELEASED,
    ):
        assert CATALOGUE[kind.value].mandatory, kind
    assert not CATALOGUE[Kind.OUTBID.value].mandatory


def test_every_rendered_text_has_a_subject_and_a_body_even_without_data():
    texts = Texts("https://techx.example")
    for kind in CATALOGUE:
        for language in Language:
            rendered = texts.render(kind, language.value, {})
            assert rendered.subject and rendered.body, (kind, language)


def test_texts_write_yuan_and_beijing_time_and_absolute_links():
    texts = Texts("https://techx.example/")
    data = {"listing_title": "一种锂电池隔膜", "amount_fen": 123_600_000, "due_at": "2027-01-28T08:00:00Z"}
    zh = texts.render(Kind.PAYMENT_DUE.value, "zh", data, "deal", "d-1")
    assert "¥1,236,000.00" in zh.subject + zh.body
    assert "2027年1月28日 16:00" in zh.body  # 08:00 UTC is 16:00 in Beijing
    assert zh.link == "https://techx.example/deals/d-1"
    en = texts.render(Kind.PAYMENT_DUE.value, "en", data, "deal", "d-1")
    assert "¥1,236,000.00" in en.subject and "28 Jan 2027, 16:00 Beijing time" in en.body


def test_account_links_carry_the_token():
    texts = Texts("https://techx.example")
    rendered = texts.render(Kind.PASSWORD_RESET.value, "zh", {"token": "a b/c"})
    assert rendered.link == "https://techx.example/password-reset?token=a%20b%2Fc"
    assert rendered.link in rendered.body
    invitation = texts.render(Kind.INVITATION.value, "en", {"token": "t1", "org_name": "同济大学"})
    assert invitation.link == "https://techx.example/invitations/accept?token=t1"
    assert "同济大学" in invitation.subject


def test_a_deployer_replaces_a_text_with_a_file_of_the_same_name(tmp_path):
    (tmp_path / "zh").mkdir()
    (tmp_path / "zh" / "auction.outbid.txt").write_text("有人出价更高了：{{ listing_title }}\n\n快去看看。\n")
    texts = Texts("https://techx.example", str(tmp_path))
    rendered = texts.render(Kind.OUTBID.value, "zh", {"listing_title": "A"})
    assert (rendered.subject, rendered.body) == ("有人出价更高了：A", "快去看看。")
    assert texts.render(Kind.AUCTION_WON.value, "zh", {"listing_title": "A"}).subject.startswith("竞得成功")


def test_links_by_subject_type():
    assert link_path("deal", "1") == "/deals/1"
    assert link_path("listing", "2") == "/listings/2"
    assert link_path("auction", "3") == "/auctions/3"
    assert link_path("notice", "4") == "/notices/4"
    assert link_path("org", "5") == "/orgs/5"
    assert link_path("", "") == "" and link_path("unknown", "1") == ""


def test_switching_off_a_mandatory_kind_is_refused_naming_it():
    check_switches({Kind.OUTBID.value: {"email": False, "inbox": False}})
    with pytest.raises(MandatoryKind) as refused:
        check_switches({Kind.PAYMENT_DUE.value: {"email": False}})
    assert refused.value.errors[0]["field"] == "kinds.payment.due.email"
    with pytest.raises(UnknownKind):
        check_switches({"no.such": {"email": True}})
    with pytest.raises(UnknownKind):
        check_switches({Kind.OUTBID.value: {"webhook": False}})


def test_wants_follows_switches_except_for_mandatory_kinds():
    outbid, due = info(Kind.OUTBID.value), info(Kind.PAYMENT_DUE.value)
    off = {Kind.OUTBID.value: {"email": False}, Kind.PAYMENT_DUE.value: {"email": False}}
    assert not wants(outbid, Channel.EMAIL, off) and wants(outbid, Channel.INBOX, off)
    assert wants(due, Channel.EMAIL, off)
    assert not wants(info(Kind.PASSWORD_RESET.value), Channel.INBOX, None)
    assert info("some.future_kind").channels  # a kind the catalogue does not know still goes out


def test_webhook_retries_back_off_exponentially_and_end_24_hours_after_creation():
    policy = RETRIES[Channel.WEBHOOK]
    give_up = T0 + timedelta(hours=24)
    gaps = []
    now, attempts = T0, 0
    while True:
        attempts += 1
        nxt = policy.next_attempt(attempts, give_up, now)
        if nxt is None:
            break
        gaps.append(nxt - now)
        now = nxt
    assert gaps[:3] == [timedelta(seconds=30), timedelta(seconds=60), timedelta(seconds=120)]
    assert max(gaps) == timedelta(hours=1)
    assert now <= give_up and give_up - now < timedelta(hours=1)
    email = RETRIES[Channel.EMAIL]
    assert email.max_attempts < policy.max_attempts
    assert email.next_attempt(email.max_attempts, give_up, T0) is None


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body():
    body = b'{"id":"x"}'
    expected = hmac.new(b"whsec_k", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert signature("whsec_k", 1700000000, body) == f"v1={expected}"


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",
        "169.254.1.1",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "::1",
        "fe80::1",
        "fc00::1",
        "fd00:ec2::254",
        "::ffff:127.0.0.1",
        "::",
    ],
)
def test_addresses_a_webhook_may_not_reach(address):
    assert address_refusal(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:4700::1111", "1.1.1.1"])
def test_public_addresses_are_allowed(address):
    assert address_refusal(ipaddress.ip_address(address)) is None


def test_webhook_urls_must_be_https_without_credentials():
    assert parse_webhook_url("https://hooks.example.cn/techx", allow_http=False).port == 443
    for url in ("http://hooks.example.cn/", "ftp://x/", "https:///path", "https://u:p@hooks.example.cn/", "hooks"):
        with pytest.raises(WebhookUrlRefused) as refused:
            parse_webhook_url(url, allow_http=False)
        assert refused.value.errors[0]["field"] == "url"
    assert parse_webhook_url("http://127.0.0.1:9000/x", allow_http=True).port == 9000


def test_every_resolved_address_is_checked():
    check_addresses("ok.example", ["93.184.216.34"], allow_private=False)
    with pytest.raises(WebhookUrlRefused):
        check_addresses("mixed.example", ["93.184.216.34", "10.0.0.1"], allow_private=False)
    with pytest.raises(WebhookUrlRefused):
        check_addresses("nothing.example", [], allow_private=True)
    check_addresses("dev.example", ["127.0.0.1"], allow_private=True)


def test_delivery_runs_in_each_server_unless_its_interval_is_zero():
    from exchange.platform.settings import Settings, SettingsError
    from exchange.server.app import periodic_tasks

    on = Settings.from_env(env={})
    assert [t.interval for t in periodic_tasks(on) if t.name == "notifications"] == [2.0]
    off = Settings.from_env(env={"TECHX_NOTIFY_INTERVAL_SECONDS": "0"})
    assert "notifications" not in [t.name for t in periodic_tasks(off)]
    with pytest.raises(SettingsError, match="TECHX_NOTIFY_INTERVAL_SECONDS"):
        Settings.from_env(env={"TECHX_NOTIFY_INTERVAL_SECONDS": "-1"})
    with pytest.raises(SettingsError, match="TECHX_PUBLIC_BASE_URL"):
        Settings.from_env(env={"TECHX_PUBLIC_BASE_URL": "techx.example"})


def test_optional_lines_keep_their_line_breaks_and_midnight_is_the_end_of_the_day_before():
    texts = Texts("https://techx.example")
    data = {"listing_title": "隔膜", "price_fen": 123_600_000, "net_to_seller_fen": 100_000_000}
    body = texts.render(Kind.DEAL_SETTLED.value, "zh", data).body
    assert body.splitlines()[1:] == ["成交价：¥1,236,000.00", "卖方结算净额：¥1,000,000.00"]
    due = texts.render(Kind.PAYMENT_DUE.value, "en", {"amount_fen": 1, "deadline_at": "2027-02-01T16:00:00Z"})
    assert "by 1 Feb 2027, 24:00 Beijing time" in due.subject
