"""Key material, read from the environment once per process. No Django import (settings use it).

* **JWT keys** (RS256): ``JWT_PRIVATE_KEY`` (PEM, or ``JWT_PRIVATE_KEY_FILE`` naming a file) signs;
  verification accepts its public key plus every public key in ``JWT_PUBLIC_KEYS`` (one or more
  concatenated PEM blocks, or ``JWT_PUBLIC_KEYS_FILE``): the previous keys of a rotation. Every key
  is identified by its RFC 7638 JWK thumbprint, which tokens carry as ``kid``; an unknown ``kid``
  is rejected. RSA keys under 2048 bits are refused.
* **Field encryption keys** (Fernet): ``FIELD_ENCRYPTION_KEYS``, comma-separated, the first
  encrypts and all decrypt (rotation: prepend a new key, re-encrypt, then drop the old one).

Development and test generate both once into ``GPUBROKER_VAR_DIR`` (git-ignored) when unset;
production passes ``allow_generate=False`` and refuses to start without them.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from gpubroker.settings.env import ConfigurationError

MIN_RSA_BITS = 2048
GENERATED_RSA_BITS = 3072
DEV_PRIVATE_KEY_FILE = "jwt_private_key.pem"
DEV_FIELD_KEYS_FILE = "field_encryption_keys.txt"
_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z ]+)-----.+?-----END \1-----", re.DOTALL)


@dataclass(frozen=True)
class KeySet:
    """The signing key and every public key accepted for verification, by ``kid``."""

    signing_kid: str
    private_pem: str
    public_pems: Mapping[str, str] = field(default_factory=dict)


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8 or 1, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def key_id(public_key: rsa.RSAPublicKey) -> str:
    """RFC 7638 thumbprint (SHA-256, base64url) of an RSA public key: a stable ``kid``."""
    numbers = public_key.public_numbers()
    jwk = {"e": _b64url_uint(numbers.e), "kty": "RSA", "n": _b64url_uint(numbers.n)}
    canonical = json.dumps(jwk, separators=(",", ":"), sort_keys=True).encode("ascii")
    return base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()


def _public_pem(public_key: rsa.RSAPublicKey) -> str:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def _read_value(env: Mapping[str, str], name: str) -> str | None:
    """``NAME`` itself, or the contents of the file named by ``NAME_FILE``."""
    value = env.get(name)
    if value:
        return value.replace("\\n", "\n")
    path = env.get(f"{name}_FILE")
    if path:
        try:
            return Path(path).read_text()
        except OSError as exc:
            raise ConfigurationError(f"{name}_FILE: cannot read {path!r} ({exc.strerror})") from exc
    return None


def _check_rsa(key: object, name: str) -> None:
    if not isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        raise ConfigurationError(f"{name} must be an RSA key (RS256)")
    if key.key_size < MIN_RSA_BITS:
        raise ConfigurationError(
            f"{name} is a {key.key_size}-bit RSA key; at least {MIN_RSA_BITS} bits are required"
        )


def _load_private(pem: str, name: str) -> rsa.RSAPrivateKey:
    try:
        key = serialization.load_pem_private_key(pem.strip().encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigurationError(f"{name} is not an unencrypted PEM private key") from exc
    _check_rsa(key, name)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def _load_publics(pem_bundle: str, name: str) -> list[rsa.RSAPublicKey]:
    blocks = [match.group(0) for match in _PEM_BLOCK.finditer(pem_bundle)]
    if not blocks:
        raise ConfigurationError(f"{name} holds no PEM public key")
    keys = []
    for block in blocks:
        try:
            key = serialization.load_pem_public_key(block.encode())
        except (ValueError, TypeError) as exc:
            raise ConfigurationError(f"{name} holds a block that is not a PEM public key") from exc
        _check_rsa(key, name)
        assert isinstance(key, rsa.RSAPublicKey)
        keys.append(key)
    return keys


def _write_once(path: Path, content: str) -> str:
    """Create ``path`` atomically with mode 0600 unless another process already did; return it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(content)
            os.chmod(tmp, 0o600)
            with contextlib.suppress(FileExistsError):  # another process won the race
                os.link(tmp, path)
        finally:
            os.unlink(tmp)
    return path.read_text()


def generate_private_pem(bits: int = GENERATED_RSA_BITS) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def load_keyset(env: Mapping[str, str], *, var_dir: Path, allow_generate: bool) -> KeySet:
    private_pem = _read_value(env, "JWT_PRIVATE_KEY")
    if private_pem is None:
        if not allow_generate:
            raise ConfigurationError(
                "JWT_PRIVATE_KEY is not set: production settings refuse to start without it"
            )
        private_pem = _write_once(var_dir / DEV_PRIVATE_KEY_FILE, generate_private_pem())
    private_key = _load_private(private_pem, "JWT_PRIVATE_KEY")
    signing_public = private_key.public_key()
    signing_kid = key_id(signing_public)
    public_pems = {signing_kid: _public_pem(signing_public)}
    bundle = _read_value(env, "JWT_PUBLIC_KEYS")
    if bundle:
        for public in _load_publics(bundle, "JWT_PUBLIC_KEYS"):
            public_pems.setdefault(key_id(public), _public_pem(public))
    return KeySet(signing_kid=signing_kid, private_pem=private_pem, public_pems=public_pems)


def load_field_keys(env: Mapping[str, str], *, var_dir: Path, allow_generate: bool) -> list[str]:
    raw = _read_value(env, "FIELD_ENCRYPTION_KEYS")
    if raw is None:
        if not allow_generate:
            raise ConfigurationError(
                "FIELD_ENCRYPTION_KEYS is not set: production settings refuse to start without it"
            )
        raw = _write_once(var_dir / DEV_FIELD_KEYS_FILE, Fernet.generate_key().decode("ascii"))
    keys = [item.strip() for item in raw.replace("\n", ",").split(",") if item.strip()]
    if not keys:
        raise ConfigurationError("FIELD_ENCRYPTION_KEYS holds no key")
    for key in keys:
        try:
            Fernet(key.encode("ascii"))
        except (ValueError, TypeError) as exc:
            raise ConfigurationError(
                "FIELD_ENCRYPTION_KEYS must be comma-separated Fernet keys "
                "(32 url-safe base64-encoded bytes each)"
            ) from exc
    return keys
