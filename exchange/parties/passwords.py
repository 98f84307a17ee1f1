"""Argon2id password hashes (PHC string format) from the ``cryptography`` package."""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidKey
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

# OWASP's password storage cheat sheet, first Argon2id configuration: 19 MiB, 2 passes, 1 lane.
# Hashing runs in a worker thread (see the service) so that it never blocks the event loop.
MEMORY_KIB = 19 * 1024
ITERATIONS = 2
LANES = 1


def hash_password(password: str) -> str:
    kdf = Argon2id(salt=os.urandom(16), length=32, iterations=ITERATIONS, lanes=LANES, memory_cost=MEMORY_KIB)
    return kdf.derive_phc_encoded(password.encode())


def verify_password(password: str, encoded: str) -> bool:
    try:
        Argon2id.verify_phc_encoded(password.encode(), encoded)
    except (InvalidKey, ValueError):
        return False
    return True


# Checked against when the email is unknown, so that a login takes as long either way.
DUMMY_HASH = hash_password("not-a-real-password")
