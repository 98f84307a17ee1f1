"""Pure rules of parties: credit codes, guards, tokens, throttling, password hashes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from hypothesis import given
from hypothesis import strategies as st

from exchange.parties.auth import TokenIssuer
from exchange.parties.domain import (
    CREDIT_CODE_ALPHABET,
    LastAdmin,
    OrgKind,
    OrgStatus,
    Principal,
    Role,
    check_admins_remain,
    credit_code_check_char,
    credit_code_problem,
    new_token,
    token_hash,
)
from exchange.parties.passwords import hash_password, verify_password
from exchange.parties.sessions import parse_cookie
from exchange.platform.clock import ManualClock
from kernel.errors import Forbidden, OrgNotVerified, OrgSuspended, Unauthorized
from kernel.keyring import KeyRing

first17 = st.tuples(
    st.text(CREDIT_CODE_ALPHABET, min_size=2, max_size=2),
    st.text("0123456789", min_size=6, max_size=6),
    st.text(CREDIT_CODE_ALPHABET, min_size=9, max_size=9),
).map("".join)


@given(first17)
def test_a_code_with_its_check_character_is_valid(prefix):
    assert credit_code_problem(prefix + credit_code_check_char(prefix)) is None


@given(first17, st.integers(0, 16), st.sampled_from(CREDIT_CODE_ALPHABET))
def test_changing_one_character_breaks_the_check(prefix, position, replacement):
    code = prefix + credit_code_check_char(prefix)
    changed = code[:position] + replacement + code[position + 1 :]
    if changed != code and changed[2:8].isdigit():
        assert credit_code_problem(changed) == "check character does not match"


def test_known_real_codes():
    assert credit_code_problem("91350100M000100Y43") is None  # a published example code
    assert credit_code_problem("91350100M000100Y4") == "must be 18 characters"
    assert "characters not used" in credit_code_problem("91350100M000100YI3")


def principal(kind=OrgKind.ENTERPRISE, verified=True, status=OrgStatus.ACTIVE, role=Role.ADMIN) -> Principal:
    return Principal(
        user_id=uuid.uuid4(),
        email="a@b.cn",
        display_name="A",
        role=role,
        org_id=uuid.uuid4(),
        org_name="Org",
        org_kind=kind,
        org_verified=verified,
        org_status=status,
    )


def test_guards():
    with pytest.raises(OrgNotVerified):
        principal(verified=False).require_active_verified()
    with pytest.raises(OrgSuspended):
        principal(status=OrgStatus.SUSPENDED).require_active_verified()
    with pytest.raises(Forbidden):
        principal().require_operator()
    principal(kind=OrgKind.OPERATOR).require_operator()
    with pytest.raises(Forbidden):
        principal(kind=OrgKind.OPERATOR, status=OrgStatus.SUSPENDED).require_operator()
    with pytest.raises(Forbidden):
        principal(role=Role.MEMBER).require_admin()
    caller = principal()
    caller.require_member_of(uuid.uuid4(), caller.org_id)
    with pytest.raises(Forbidden):
        caller.require_member_of(uuid.uuid4())
    principal(kind=OrgKind.OPERATOR).require_member_of(uuid.uuid4(), operators_too=True)
    assert principal(kind=OrgKind.UNIVERSITY).is_public_institution
    assert not principal(kind=OrgKind.ENTERPRISE).is_public_institution


def test_tokens_expire_by_the_exchange_clock():
    clock = ManualClock(datetime(2026, 1, 5, tzinfo=UTC))
    issuer = TokenIssuer(ring("s" * 32), 60, clock)
    user_id = uuid.uuid4()
    token = issuer.issue(user_id)
    assert issuer.user_id(token) == user_id
    clock.advance(timedelta(seconds=60))
    with pytest.raises(Unauthorized, match="expired"):
        issuer.user_id(token)


def test_tokens_signed_with_another_secret_are_refused():
    clock = ManualClock()
    token = TokenIssuer(ring("o" * 32), 60, clock).issue(uuid.uuid4())
    with pytest.raises(Unauthorized, match="not valid"):
        TokenIssuer(ring("s" * 32), 60, clock).user_id(token)
    with pytest.raises(Unauthorized):
        TokenIssuer(ring("s" * 32), 60, clock).user_id("not.a.jwt")


def test_tokens_are_checked_with_the_secret_their_kid_names():
    clock = ManualClock()
    before = TokenIssuer(KeyRing("a" * 16, {"a" * 16: "o" * 32}), 60, clock).issue(uuid.uuid4())
    rotated = TokenIssuer(KeyRing("b" * 16, {"a" * 16: "o" * 32, "b" * 16: "s" * 32}), 60, clock)
    after = rotated.issue(uuid.uuid4())
    assert (jwt.get_unverified_header(before)["kid"], jwt.get_unverified_header(after)["kid"]) == ("a" * 16, "b" * 16)
    assert rotated.user_id(before) and rotated.user_id(after)
    with pytest.raises(Unauthorized, match="unknown key"):
        TokenIssuer(ring("s" * 32, "b" * 16), 60, clock).user_id(before)
    # Tokens from before key ids name no key: the legacy secret checks them, if the ring has one.
    legacy = jwt.encode({"sub": str(uuid.uuid4()), "exp": clock.now() + timedelta(seconds=60)}, "o" * 32, "HS256")
    assert TokenIssuer(KeyRing("b" * 16, {"a" * 16: "o" * 32, "b" * 16: "s" * 32}, "a" * 16), 60, clock).user_id(legacy)
    with pytest.raises(Unauthorized, match="unknown key"):
        rotated.user_id(legacy)


def ring(secret: str, key_id: str = "0" * 16) -> KeyRing[str]:
    return KeyRing(key_id, {key_id: secret})


def test_password_hashes_are_salted_argon2id():
    first, second = hash_password("0123456789"), hash_password("0123456789")
    assert first.startswith("$argon2id$") and first != second
    assert verify_password("0123456789", first)
    assert not verify_password("0123456788", first)
    assert not verify_password("0123456789", "garbage")


def test_password_rules_follow_nist_800_63b():
    from exchange.parties.passwords import MAX_LENGTH, MIN_LENGTH, password_problem

    assert MIN_LENGTH >= 8 and MAX_LENGTH >= 64
    assert password_problem("correct horse battery staple") is None
    assert password_problem("密码是一句很长的中文短语") is None  # any Unicode character counts
    assert "at least" in (password_problem("short") or "")
    assert "at most" in (password_problem("x" * (MAX_LENGTH + 1)) or "")
    assert "only spaces" in (password_problem(" " * 12) or "")
    assert "common" in (password_problem("iloveyou123") or "")
    assert "common" in (password_problem("QWERTYUIOP") or "")


def test_a_remembered_token_is_checked_again_when_its_key_leaves_the_ring():
    clock = ManualClock()
    keys = {"a" * 16: "o" * 32, "b" * 16: "s" * 32}
    issuer = TokenIssuer(KeyRing("b" * 16, keys), 60, clock)
    token = TokenIssuer(KeyRing("a" * 16, {"a" * 16: "o" * 32}), 60, clock).issue(uuid.uuid4())
    assert issuer.user_id(token) == issuer.user_id(token)  # checked once, then remembered
    del keys["a" * 16]
    with pytest.raises(Unauthorized, match="unknown key"):
        issuer.user_id(token)
    keys["a" * 16] = "x" * 32  # the same kid with another secret: the signature no longer matches
    with pytest.raises(Unauthorized, match="not valid"):
        issuer.user_id(token)


def test_access_tokens_name_their_session_when_they_have_one():
    clock = ManualClock(datetime(2026, 1, 5, tzinfo=UTC))
    issuer = TokenIssuer(ring("s" * 32), 900, clock)
    user_id, session_id = uuid.uuid4(), uuid.uuid4()
    assert issuer.subject(issuer.issue(user_id, session_id)) == (user_id, session_id)
    assert issuer.subject(issuer.issue(user_id)) == (user_id, None)


def test_an_organisation_keeps_one_admin():
    check_admins_remain(1)
    with pytest.raises(LastAdmin) as refused:
        check_admins_remain(0)
    assert refused.value.problem_type == "last-admin" and refused.value.status == 409


def test_mailed_tokens_are_random_and_kept_only_as_their_hash():
    first, second = new_token(), new_token()
    assert first != second and len(first) >= 43  # 256 bits, URL-safe
    assert token_hash(first) == token_hash(first) != token_hash(second)
    assert len(token_hash(first)) == 64 and first not in token_hash(first)


def test_the_pages_cookie_names_a_session_and_its_secret():
    session_id = uuid.uuid4()
    assert parse_cookie(f"{session_id}.secret") == (session_id, token_hash("secret"))
    for foreign in ("", "no-dot", f"{session_id}.", "not-a-uuid.secret", "eyJhbGciOiJIUzI1NiJ9.e30.sig"):
        assert parse_cookie(foreign) is None
