"""Bearer tokens, signing in (the API's login and the pages' alike) and the limit on failed logins."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import jwt

from exchange.parties import service
from exchange.platform.clock import Clock
from exchange.platform.db import Database
from exchange.platform.ratelimit import Limit, RateLimiter, network_of
from exchange.platform.settings import Settings
from kernel.errors import Unauthorized
from kernel.keyring import KeyRing

ALGORITHM = "HS256"


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

    def issue(self, user_id: uuid.UUID) -> str:
        now = self._clock.now()
        claims = {"sub": str(user_id), "iat": now, "exp": now + timedelta(seconds=self.lifetime_seconds)}
        return jwt.encode(claims, self._secrets.current, algorithm=ALGORITHM, headers={"kid": self._secrets.current_id})

    def user_id(self, encoded: str) -> uuid.UUID:
        try:
            secret = self._secrets.get(jwt.get_unverified_header(encoded).get("kid"))
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
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            raise Unauthorized("the bearer token is not valid") from exc
        if expires <= self._clock.now():
            raise Unauthorized("the bearer token has expired")
        return user_id


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


async def sign_in(
    db: Database,
    tokens: TokenIssuer,
    limiter: RateLimiter,
    settings: Settings,
    *,
    client: str,
    email: str,
    password: str,
) -> str:
    """An access token for the user of ``email`` and ``password``: the one way in, for ``POST
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
    return tokens.issue(user.id)
