"""Encryption of secrets at rest (TOTP secrets here; provider API keys in the integrations).

``encrypt_str`` / ``decrypt_str`` use a ``MultiFernet`` over ``FIELD_ENCRYPTION_KEYS`` (AES-128-CBC
with HMAC-SHA256, authenticated, timestamped): the first key encrypts, every key decrypts, so keys
rotate by prepending a new one and calling ``rotate_str`` on stored values. Ciphertexts are
url-safe base64 text that fits a ``CharField``/``TextField``.
"""

from __future__ import annotations

import os
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from .keys import load_field_keys


class DecryptionFailed(Exception):
    """The ciphertext was tampered with or was made with a key that is no longer configured."""


@cache
def _fernet() -> MultiFernet:
    keys = getattr(settings, "FIELD_ENCRYPTION_KEYS", None) or load_field_keys(
        os.environ,
        var_dir=settings.GPUBROKER_VAR_DIR,
        allow_generate=settings.GPUBROKER_GENERATE_DEV_KEYS,
    )
    return MultiFernet([Fernet(key.encode("ascii")) for key in keys])


@receiver(setting_changed)
def _reset(setting: str, **kwargs: object) -> None:
    if setting in {"FIELD_ENCRYPTION_KEYS", "GPUBROKER_VAR_DIR"}:
        _fernet.cache_clear()


def encrypt_str(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt_str(ciphertext: str) -> str:
    try:
        return _fernet().decrypt(ciphertext.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError) as exc:
        raise DecryptionFailed("stored secret cannot be decrypted") from exc


def rotate_str(ciphertext: str) -> str:
    """Re-encrypt under the current first key (after a key was prepended)."""
    try:
        return _fernet().rotate(ciphertext.encode("ascii")).decode("ascii")
    except InvalidToken as exc:
        raise DecryptionFailed("stored secret cannot be decrypted") from exc
