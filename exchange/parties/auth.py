"""Bearer tokens, signing in (the API's login and the pages' alike), and the rate limits of signing
in, signing up and account mail."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import jwt

from exchange.parties import service, sessions
from exchange.parties.sessions import Device, Opened
from exchange.platform.clock import Clock
from exchange.platform.db import Database
from exchange.platform.ratelimit import Limit, RateLimiter, network_of
from exchange.platform.settings import Settings
from kernel.errors import Forbidden, Unauthorized
from kernel.keyring import KeyRing

ALGORITHM = "HS256"
TOKENS_KEPT = 4096  # checked tokens remembered per process (emptied when full)


class TokenIssuer:
    """Issues and checks HS256 JWTs with PyJWT.

    Tokens are signed with the current secret of ``secrets`` and name it in the header's ``kid``; a
    token is checked with the secret its ``kid`` names (none: the legacy secret, of tokens issued
    before key ids existed), so tokens issued before a rotation work until they expire.

    Expiry is checked against the exchange clock rather than the wall clock (so litestar's own
    ``Token``, which insists on the wall clock, is not used): tests and the demo move time.
    """

    def __init__(self, secrets: KeyRing[str], lifetime_seconds: int, clock: Clock) -> None:
        self._secrets = secrets
        self.lifetime_seconds = lifetime_seconds
        self._clock = clock
        # Tokens whose signature this process has checked: token -> (kid, secret, user, session,
        # expiry). A token is checked again when the ring no longer holds its secret under its kid;
        # expiry is checked on every use, and the session's revocation by the caller's statement.
        self._checked: dict[str, tuple[str | None, str, uuid.UUID, uuid.UUID | None, datetime]] = {}

    def issue(self, user_id: uuid.UUID, session_id: uuid.UUID | None = None) -> str:
        """An access token of ``user_id``; naming its session (``sid``) makes it end with the session."""
        now = self._clock.now()
        claims: dict[str, object] = {
            "sub": str(user_id),
            "iat": now,
            "exp": now + timedelta(seconds=self.lifetime_seconds),
        }
        if session_id is not None:
            claims["sid"] = str(session_id)
        return jwt.encode(claims, self._secrets.current, algorithm=ALGORITHM, headers={"kid": self._secrets.current_id})

    def user_id(self, encoded: str) -> uuid.UUID:
        return self.subject(encoded)[0]

    def subject(self, encoded: str) -> tuple[uuid.UUID, uuid.UUID | None]:
        """The user and the session (None for a token without ``sid``) of a valid, unexpired token."""
        known = self._checked.get(encoded)
        if known is None or self._secrets.get(known[0]) != known[1]:
            known = self._check(encoded)
            if len(self._checked) >= TOKENS_KEPT:
                self._checked.clear()
            self._checked[encoded] = known
        _, _, user_id, session_id, expires = known
        if expires <= self._clock.now():
            raise Unauthorized("the bearer token has expired")
        return user_id, session_id

    def _check(self, encoded: str) -> tuple[str | None, str, uuid.UUID, uuid.UUID | None, datetime]:
        """The signature and claims of a token: its kid, the secret that signed it, user, session, expiry."""
        try:
            kid = jwt.get_unverified_header(encoded).get("kid")
            secret = self._secrets.get(kid)
            if secret is None:
                raise Unauthorized("the bearer token is signed with an unknown key")
            claims = jwt.decode(
                encoded,
                secret,
                algorithms=[ALGORITHM],
                options={"verify_exp": False, "verify_iat": False, "require": ["exp", "sub"]},
            )
            expires = datetime.fromtimestamp(int(claims["exp"]), UTC)
            user_id = uuid.UUID(str(claims["sub"]))
            session_id = uuid.UUID(str(claims["sid"])) if "sid" in claims else None
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            raise Unauthorized("the bearer token is not valid") from exc
        return kid, secret, user_id, session_id, expires


def login_failures(settings: Settings) -> Limit:
    """Failed logins per email and per client address; successful ones are not counted."""
    return Limit("login-failures", settings.login_attempts_per_minute, 60, "failed logins")


def sign_up_counts(settings: Settings, client: str) -> tuple[tuple[Limit, str], ...]:
    """Sign-ups per client address and per its network (/24 or /64): each costs an Argon2 hash and
    makes an account that may object to notices."""
    per_client = Limit("sign-ups-per-client", settings.registrations_per_hour_per_client, 3600, "sign-ups")
    per_network = Limit(
        "sign-ups-per-network", settings.registrations_per_hour_per_network, 3600, "sign-ups from this network"
    )
    return ((per_client, f"client:{client}"), (per_network, f"network:{network_of(client)}"))


def account_mail_to(settings: Settings, email: str) -> tuple[Limit, str]:
    """Confirmation, reset and invitation mail to one address: counted before the address is looked
    up, so that a refusal says nothing about whether it has an account."""
    limit = Limit(
        "account-mail-per-address", settings.account_mail_per_hour_per_address, 3600, "emails to this address"
    )
    return (limit, f"email:{service.normalise_email(email)}")


def password_reset_counts(settings: Settings, client: str, email: str) -> tuple[tuple[Limit, str], ...]:
    per_client = Limit("password-resets-per-client", settings.account_mail_per_hour_per_client, 3600, "reset requests")
    return ((per_client, f"client:{client}"), account_mail_to(settings, email))


def invitation_counts(settings: Settings, org_id: uuid.UUID, email: str) -> tuple[tuple[Limit, str], ...]:
    per_org = Limit("invitations-per-org", settings.invitations_per_day_per_org, 86400, "invitations")
    return ((per_org, f"org:{org_id}"), account_mail_to(settings, email))


def session_lifetime(settings: Settings) -> timedelta:
    """How long a refresh token (and the pages' session cookie) lives unused."""
    return timedelta(days=settings.refresh_token_days)


async def sign_in(
    db: Database,
    limiter: RateLimiter,
    settings: Settings,
    clock: Clock,
    *,
    client: str,
    email: str,
    password: str,
    kind: str = sessions.API,
    user_agent: str = "",
) -> Opened:
    """A new session for the user of ``email`` and ``password``: the one way in, for ``POST
    /auth/login`` and the pages' sign-in form. Failed attempts count per email and per client; a
    spent email or client is refused before its password is tried."""
    limit = login_failures(settings)
    counts = ((limit, f"email:{service.normalise_email(email)}"), (limit, f"client:{client}"))
    await limiter.check(*counts)
    async with db.read() as session:
        user = await service.authenticate(session, email, password)
    if user is None:
        await limiter.hit(*counts)
        raise Unauthorized("email or password is wrong")
    device = Device(user_agent=user_agent, client_address=client)
    return await db.transaction(
        lambda s: sessions.open_session(
            s, user.id, kind=kind, device=device, now=clock.now(), lifetime=session_lifetime(settings)
        )
    )


async def check_current_password(
    db: Database, limiter: RateLimiter, settings: Settings, user_id: uuid.UUID, email: str, password: str
) -> None:
    """A password change needs the current password; wrong guesses count as failed logins."""
    counts = ((login_failures(settings), f"email:{service.normalise_email(email)}"),)
    await limiter.check(*counts)
    async with db.read() as session:
        user = await service.authenticate(session, email, password)
    if user is None or user.id != user_id:
        await limiter.hit(*counts)
        raise Forbidden("the current password is wrong", field="current_password")
