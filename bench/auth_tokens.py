"""Cost of the auth primitives on this machine: argon2 hashing, RS256 signing and verification,
and a full ``user_from_access_token`` (verify + one query) against the configured database.

    DJANGO_SETTINGS_MODULE=gpubroker.settings.development .venv/bin/python bench/auth_tokens.py

Prints medians in milliseconds; the RS256 verification is set against a baseline measured in the
same run (a bare ``cryptography`` RSA verify) so the python-jose overhead is visible."""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gpubroker.settings.development")

import django

django.setup()

from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import padding, rsa  # noqa: E402
from django.contrib.auth.hashers import get_hasher  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402

from apps.auth_app import services, tokens  # noqa: E402
from apps.auth_app.models import Tenant, User  # noqa: E402


def median_ms(fn: Callable[[], object], runs: int) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def main() -> None:
    call_command("migrate", verbosity=0)
    hasher = get_hasher()
    encoded = hasher.encode("bench password 123", hasher.salt())
    hashing = median_ms(lambda: hasher.encode("x" * 20, ""), 15)
    checking = median_ms(lambda: hasher.verify("bench password 123", encoded), 15)
    print(f"argon2id hash   (m=19456,t=2,p=1): {hashing:8.2f} ms")
    print(f"argon2id verify (m=19456,t=2,p=1): {checking:8.2f} ms")

    token, _ = tokens.encode(
        "00000000-0000-0000-0000-000000000000", tokens.ACCESS, 900, {"sid": "x"}
    )
    sign = median_ms(lambda: tokens.encode("s", tokens.ACCESS, 900), 200)
    verify = median_ms(lambda: tokens.decode(token, tokens.ACCESS), 500)
    key = serialization.load_pem_private_key(tokens.keyset().private_pem.encode(), None)
    assert isinstance(key, rsa.RSAPrivateKey)
    signature = key.sign(b"payload", padding.PKCS1v15(), hashes.SHA256())
    public = key.public_key()
    bare = median_ms(
        lambda: public.verify(signature, b"payload", padding.PKCS1v15(), hashes.SHA256()), 500
    )
    print(f"RS256 sign (python-jose):          {sign:8.3f} ms")
    print(f"RS256 verify + claim checks:       {verify:8.3f} ms  ({verify / bare:.1f}x bare)")
    print(f"bare RSA verify (baseline):        {bare:8.3f} ms")

    with transaction.atomic():
        tenant = Tenant.objects.create(name=f"bench-{time.time_ns()}")
        user = User.objects.create_user(
            email=f"bench-{time.time_ns()}@example.com", password=None, full_name="B", tenant=tenant
        )
        access = services.issue_tokens(user)["access_token"]
        full = median_ms(lambda: services.user_from_access_token(access), 300)
        print(f"user_from_access_token (verify + 1 query): {full:8.3f} ms")
        transaction.set_rollback(True)


if __name__ == "__main__":
    main()
