"""Password hashing (Argon2id), the password policy, and passwords people read aloud.

Policy (ASVS 2.1): 12–128 characters, any characters, no composition rules, and not one
of the ~20,000 common passwords bundled in placements/data/ (docs/rules.md §11.2).
"""

from __future__ import annotations

import gzip
import secrets
from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import gettext as _

MIN_LENGTH = 12
MAX_LENGTH = 128
DATA = Path(__file__).resolve().parent.parent / "data"

_hasher = PasswordHasher()  # Argon2id with the library's recommended parameters (RFC 9106)
# Verified when the e-mail matches no account, so a failed login takes as long either way.
_DUMMY_HASH = _hasher.hash("no such account, nothing to find here")


# What a person reads and types (demo passwords): no look-alikes (l, 1, I, O, 0), in
# groups of four (docs/rules.md §11.9). 32 symbols, 16 of them: 80 bits.
READABLE_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"
READABLE_GROUPS = 4
READABLE_GROUP_LENGTH = 4


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def unusable_password_hash() -> str:
    """The hash of a random secret nobody knows: no password logs in, and a login attempt
    takes as long as for any other account (the owner sets a password with a link)."""
    return _hasher.hash(secrets.token_urlsafe(32))


def readable_password() -> str:
    """A random password to read aloud or type from paper, e.g. ``k7mp-x3wd-9fhr-tq2e``."""
    groups = (
        "".join(secrets.choice(READABLE_ALPHABET) for _ in range(READABLE_GROUP_LENGTH)) for _ in range(READABLE_GROUPS)
    )
    return "-".join(groups)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    with gzip.open(DATA / "common-passwords.txt.gz", "rt", encoding="utf-8") as stream:
        words = {line.strip() for line in stream if line.strip()}
    words |= {
        line.strip()
        for line in (DATA / "common-passwords-fi.txt").read_text(encoding="utf-8").splitlines()
        if line.strip()
    }
    return frozenset(words)


def policy_problems(password: str, email: str | None = None) -> list[str]:
    """Reasons the password is not acceptable (empty when it is)."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(_("The password must be at least %(n)s characters long.", n=MIN_LENGTH))
    if len(password) > MAX_LENGTH:
        problems.append(_("The password can be at most %(n)s characters long.", n=MAX_LENGTH))
    lowered = password.strip().lower()
    if lowered in common_passwords():
        problems.append(_("This password is on the list of commonly used passwords. Choose another."))
    elif email and lowered == email.strip().lower():
        problems.append(_("The password cannot be your e-mail address."))
    return problems
