"""Pseudonymous subject ids: a participant's identifier never reaches a file.

The operator types what identifies the participant at the site (a hospital number, a name);
:func:`pseudonym` turns it into ``sub-XXXXXXXX`` with a keyed hash (HMAC-SHA256) whose key
is secret to this installation, so the same person gets the same id session after session,
and the id cannot be turned back into the identifier without the key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path

KEY_BYTES = 32
_PSEUDONYM = re.compile(r"^sub-[A-Z2-7]{8}$")
_SITE_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{1,31}$")


def default_key_path() -> Path:
    """Return ``$XDG_CONFIG_HOME/bci-app/subject.key`` (``~/.config`` by default)."""
    xdg = os.environ.get("XDG_CONFIG_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".config"
    return base / "bci-app" / "subject.key"


def load_key(path: Path | None = None) -> bytes:
    """Return this installation's pseudonymisation key, creating it (mode 600) on first use.

    Raises
    ------
    ValueError
        When the key file exists but is not a key (wrong length).
    """
    path = Path(path) if path is not None else default_key_path()
    if path.exists():
        key = path.read_bytes()
        if len(key) != KEY_BYTES:
            raise ValueError(
                f"{path}: not a pseudonymisation key ({len(key)} bytes, expected {KEY_BYTES}); "
                "restore it from a backup: without it, subjects get new ids"
            )
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(KEY_BYTES)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(key)
    return key


def pseudonym(identifier: str, key: bytes) -> str:
    """Return the subject id of ``identifier`` under ``key``: ``sub-`` and 8 base32 letters.

    Case, surrounding spaces and repeated inner spaces do not change the result.

    Raises
    ------
    ValueError
        When the identifier is empty.
    """
    normalised = " ".join(identifier.split()).casefold()
    if not normalised:
        raise ValueError("an empty identifier has no pseudonym")
    digest = hmac.new(key, normalised.encode("utf-8"), hashlib.sha256).digest()
    return "sub-" + base64.b32encode(digest)[:8].decode("ascii")


def check_subject_id(subject: str) -> str:
    """Return ``subject`` when it can be stored as a subject id, else raise.

    Accepted: a pseudonym from :func:`pseudonym`, or a site code of 2 to 32 letters, digits,
    ``-`` or ``_`` holding at least one digit (``P017``); anything else could be a name.

    Raises
    ------
    ValueError
        Saying why the text is refused.
    """
    subject = subject.strip()
    if _PSEUDONYM.match(subject):
        return subject
    if not _SITE_CODE.match(subject):
        raise ValueError(
            f"subject id {subject!r} refused: use the pseudonym made from the identifier, or a "
            "site code of letters and digits (no spaces)"
        )
    if not any(character.isdigit() for character in subject):
        raise ValueError(
            f"subject id {subject!r} refused: a site code holds at least one digit (a word "
            "alone could be a name); use the pseudonym made from the identifier"
        )
    return subject
