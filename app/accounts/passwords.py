"""Account passwords (console sign-in, subusers, seeds): argon2 hashes via passlib (the `libpass` distribution)."""

from __future__ import annotations

from passlib.hash import argon2


def hash_password(password: str) -> str:
    return str(argon2.hash(password))


def verify_password(password: str, hashed: str) -> bool:
    return bool(argon2.verify(password, hashed))
