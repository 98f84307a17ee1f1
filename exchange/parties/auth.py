"""Bearer tokens and the limit on failed logins."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import jwt

from exchange.platform.clock import Clock
from exchange.platform.ratelimit import Limit
from exchange.platform.settings import Settings
from kernel.errors import Unauthorized

ALGORITHM = "HS256"


class TokenIssuer:
    """Issues and checks HS256 JWTs with PyJWT.

    Expiry is checked against the exchange clock rather than the wall clock (so litestar's own
    ``Token``, which insists on the wall clock, is not used): tests and the demo move time.
    """

    def __init__(self, secret: str, lifetime_seconds: int, clock: Clock) -> None:
        self._secret = secret
        self.lifetime_seconds = lifetime_seconds
        self._clock = clock

    def issue(self, user_id: uuid.UUID) -> str:
        now = self._clock.now()
        claims = {"sub": str(user_id), "iat": now, "exp": now + timedelta(seconds=self.lifetime_seconds)}
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def user_id(self, encoded: str) -> uuid.UUID:
        try:
            claims = jwt.decode(
                encoded,
                self._secret,
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
