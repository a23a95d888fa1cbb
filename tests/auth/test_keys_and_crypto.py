"""Key material from the environment, development generation, production refusals, and the
field-encryption helper."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.test import override_settings

from apps.auth_app import crypto
from apps.auth_app.keys import generate_private_pem, load_field_keys, load_keyset
from gpubroker.settings.env import ConfigurationError

ROOT = Path(__file__).resolve().parent.parent.parent
SMALL_PEM = generate_private_pem(1024)
GOOD_PEM = generate_private_pem(2048)
PREVIOUS_PEM = generate_private_pem(2048)


def _production(env: dict[str, str]) -> subprocess.CompletedProcess:
    base = {
        k: v for k, v in os.environ.items() if not k.startswith(("JWT_", "FIELD_", "SECRET_KEY"))
    }
    base.update({"SECRET_KEY": "s" * 60, "ALLOWED_HOSTS": "example.com", **env})
    base["DJANGO_SETTINGS_MODULE"] = "gpubroker.settings.production"
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=base,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _last_line(result: subprocess.CompletedProcess) -> str:
    return result.stderr.strip().splitlines()[-1]


def test_production_refuses_without_a_jwt_key():
    result = _production({"FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode()})
    assert result.returncode != 0
    assert "JWT_PRIVATE_KEY is not set" in _last_line(result)


def test_production_refuses_a_key_under_2048_bits():
    result = _production(
        {"JWT_PRIVATE_KEY": SMALL_PEM, "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode()}
    )
    assert result.returncode != 0
    assert "JWT_PRIVATE_KEY is a 1024-bit RSA key; at least 2048 bits are required" in _last_line(
        result
    )


def test_production_refuses_without_field_encryption_keys():
    result = _production({"JWT_PRIVATE_KEY": GOOD_PEM})
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS is not set" in _last_line(result)


def test_production_reads_key_files(tmp_path):
    key_file = tmp_path / "jwt.pem"
    key_file.write_text(GOOD_PEM)
    result = _production(
        {
            "JWT_PRIVATE_KEY_FILE": str(key_file),
            "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        }
    )
    assert result.returncode == 0, result.stderr


def test_public_keyset_holds_current_and_previous_keys(tmp_path):
    previous = load_keyset(
        {"JWT_PRIVATE_KEY": PREVIOUS_PEM}, var_dir=tmp_path, allow_generate=False
    )
    bundle = tmp_path / "previous.pem"
    bundle.write_text(previous.public_pems[previous.signing_kid])
    keys = load_keyset(
        {"JWT_PRIVATE_KEY": GOOD_PEM.replace("\n", "\\n"), "JWT_PUBLIC_KEYS_FILE": str(bundle)},
        var_dir=tmp_path,
        allow_generate=False,
    )
    assert set(keys.public_pems) == {keys.signing_kid, previous.signing_kid}
    with pytest.raises(ConfigurationError, match="JWT_PUBLIC_KEYS"):
        load_keyset(
            {"JWT_PRIVATE_KEY": GOOD_PEM, "JWT_PUBLIC_KEYS": "garbage"},
            var_dir=tmp_path,
            allow_generate=False,
        )


def test_development_generates_keys_once_into_var(tmp_path):
    first = load_keyset({}, var_dir=tmp_path, allow_generate=True)
    second = load_keyset({}, var_dir=tmp_path, allow_generate=True)
    assert first == second
    key_file = tmp_path / "jwt_private_key.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert load_field_keys({}, var_dir=tmp_path, allow_generate=True) == load_field_keys(
        {}, var_dir=tmp_path, allow_generate=True
    )
    assert not list(tmp_path.glob(".tmp-*"))


def test_var_dir_is_git_ignored():
    assert "var/" in (ROOT / ".gitignore").read_text().split()


def test_field_keys_must_be_fernet_keys(tmp_path):
    with pytest.raises(ConfigurationError, match="Fernet"):
        load_field_keys({"FIELD_ENCRYPTION_KEYS": "short"}, var_dir=tmp_path, allow_generate=False)


def test_encrypt_round_trip_and_tamper_detection():
    secret = "JBSWY3DPEHPK3PXP"
    token = crypto.encrypt_str(secret)
    assert secret not in token
    assert crypto.decrypt_str(token) == secret
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with pytest.raises(crypto.DecryptionFailed):
        crypto.decrypt_str(tampered)


def test_key_rotation_of_encrypted_fields():
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with override_settings(FIELD_ENCRYPTION_KEYS=[old]):
        stored = crypto.encrypt_str("api-key-123")
    with override_settings(FIELD_ENCRYPTION_KEYS=[new, old]):
        assert crypto.decrypt_str(stored) == "api-key-123"
        rotated = crypto.rotate_str(stored)
    with override_settings(FIELD_ENCRYPTION_KEYS=[new]):
        assert crypto.decrypt_str(rotated) == "api-key-123"
        with pytest.raises(crypto.DecryptionFailed):
            crypto.decrypt_str(stored)
