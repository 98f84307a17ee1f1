"""Password rules (NIST SP 800-63B) and Argon2id password hashes (PHC string format) from the
``cryptography`` package."""

from __future__ import annotations

import functools
import gzip
import os
from pathlib import Path

from cryptography.exceptions import InvalidKey
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

# OWASP's password storage cheat sheet, first Argon2id configuration: 19 MiB, 2 passes, 1 lane.
# Hashing runs in a worker thread (see the service) so that it never blocks the event loop.
MEMORY_KIB = 19 * 1024
ITERATIONS = 2
LANES = 1


MIN_LENGTH = 10  # SPEC §1 (NIST asks for at least 8)
MAX_LENGTH = 200  # NIST: allow at least 64, so that passphrases fit

# 20,000 common passwords, lowercased: Django's list, copied unchanged with its licence (BSD-3;
# origin and notice in common-passwords.LICENSE beside it).
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common-passwords.txt.gz")


@functools.cache
def _common_passwords() -> frozenset[str]:
    with gzip.open(COMMON_PASSWORDS_FILE, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip() for line in lines if line.strip())


def password_problem(password: str) -> str | None:
    """Why a new password is refused, or None (NIST SP 800-63B §3.1.1.2: length, no blank secrets,
    none from a list of commonly used ones; no composition rules)."""
    if len(password) < MIN_LENGTH:
        return f"a password needs at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"a password has at most {MAX_LENGTH} characters"
    if not password.strip():
        return "a password of only spaces (or other whitespace) is refused"
    if password.strip().lower() in _common_passwords():
        return "this password is one of the 20,000 most common passwords, which are tried first; choose another"
    return None


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
