"""Bearer tokens and login throttling."""

from __future__ import annotations

import uuid
from collections import deque
from datetime import UTC, datetime, timedelta

import jwt

from exchange.platform.clock import Clock
from kernel.errors import RateLimited, Unauthorized
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


class LoginThrottle:
    """At most ``limit`` login attempts per key in any sliding minute.

    Counted in this process; several API processes each allow ``limit``. Keys are the email and
    the client address, so that neither one account nor one client can guess freely.
    """

    def __init__(self, limit: int, clock: Clock, window: timedelta = timedelta(minutes=1)) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._attempts: dict[str, deque] = {}

    def check(self, *keys: str) -> None:
        now = self._clock.now()
        for key in keys:
            attempts = self._attempts.setdefault(key, deque())
            while attempts and attempts[0] <= now - self.window:
                attempts.popleft()
            if len(attempts) >= self.limit:
                retry_after = int((attempts[0] + self.window - now).total_seconds()) + 1
                error = RateLimited(f"too many login attempts; try again in {retry_after} s")
                error.headers = {"Retry-After": str(retry_after)}  # type: ignore[attr-defined]
                raise error
        for key in keys:
            self._attempts[key].append(now)
        if len(self._attempts) > 100_000:  # forget idle keys so the table cannot grow without bound
            self._attempts = {k: v for k, v in self._attempts.items() if v and v[-1] > now - self.window}
