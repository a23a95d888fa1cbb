"""Django password hasher backed by passlib's argon2 (argon2-cffi backend).

Parameters: **argon2id, m = 19456 KiB (19 MiB), t = 2, p = 1** by default — OWASP's Password
Storage Cheat Sheet minimum configuration for argon2id (about 35 ms per verification on one core
of the CI machine). ``ARGON2_MEMORY_KIB``, ``ARGON2_TIME_COST`` and ``ARGON2_PARALLELISM`` raise
them; values below the OWASP floor are refused at import. Hashes made with weaker parameters are
upgraded on the next successful login (``must_update``).

The encoded form is ``passlib_argon2`` + passlib's PHC string without its leading ``$``
(``passlib_argon2$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>``); passlib draws its own 16-byte
salt, so Django's ``salt`` argument is not used.
"""

from __future__ import annotations

import hmac
from functools import cached_property
from typing import Any

from django.contrib.auth.hashers import BasePasswordHasher, mask_hash
from django.utils.translation import gettext_noop as _
from passlib.hash import argon2

from gpubroker.settings.env import ConfigurationError, env_int

OWASP_MIN_MEMORY_KIB = 19456
OWASP_MIN_TIME_COST = 2
OWASP_MIN_PARALLELISM = 1

MEMORY_KIB = env_int("ARGON2_MEMORY_KIB", OWASP_MIN_MEMORY_KIB)
TIME_COST = env_int("ARGON2_TIME_COST", OWASP_MIN_TIME_COST)
PARALLELISM = env_int("ARGON2_PARALLELISM", OWASP_MIN_PARALLELISM)
if MEMORY_KIB < OWASP_MIN_MEMORY_KIB or TIME_COST < OWASP_MIN_TIME_COST or PARALLELISM < 1:
    raise ConfigurationError(
        "ARGON2_MEMORY_KIB/ARGON2_TIME_COST/ARGON2_PARALLELISM are below the OWASP minimum "
        f"(m={OWASP_MIN_MEMORY_KIB} KiB, t={OWASP_MIN_TIME_COST}, p={OWASP_MIN_PARALLELISM})"
    )


class PasslibArgon2PasswordHasher(BasePasswordHasher):
    algorithm = "passlib_argon2"
    library = "passlib"

    memory_cost = MEMORY_KIB
    time_cost = TIME_COST
    parallelism = PARALLELISM

    @cached_property
    def _handler(self) -> Any:
        return argon2.using(
            type="ID",
            memory_cost=self.memory_cost,
            time_cost=self.time_cost,
            parallelism=self.parallelism,
        )

    def salt(self) -> str:
        return ""  # passlib draws the salt

    def encode(self, password: str, salt: str) -> str:
        phc = self._handler.hash(password)
        return f"{self.algorithm}{phc}"

    def _phc(self, encoded: str) -> str:
        algorithm, rest = encoded.split("$", 1)
        if not hmac.compare_digest(algorithm, self.algorithm):
            raise ValueError("not a passlib_argon2 hash")
        return "$" + rest

    def verify(self, password: str, encoded: str) -> bool:
        try:
            return bool(self._handler.verify(password, self._phc(encoded)))
        except ValueError:
            return False

    def decode(self, encoded: str) -> dict[str, Any]:
        parsed = argon2.from_string(self._phc(encoded))
        return {
            "algorithm": self.algorithm,
            "variety": f"argon2{parsed.type}",
            "version": parsed.version,
            "memory_cost": parsed.memory_cost,
            "time_cost": parsed.rounds,
            "parallelism": parsed.parallelism,
            "salt": parsed.salt.hex(),
            "hash": parsed.checksum.hex(),
        }

    def safe_summary(self, encoded: str) -> dict[Any, Any]:
        decoded = self.decode(encoded)
        return {
            _("algorithm"): decoded["algorithm"],
            _("variety"): decoded["variety"],
            _("version"): decoded["version"],
            _("memory cost"): decoded["memory_cost"],
            _("time cost"): decoded["time_cost"],
            _("parallelism"): decoded["parallelism"],
            _("salt"): mask_hash(decoded["salt"]),
            _("hash"): mask_hash(decoded["hash"]),
        }

    def must_update(self, encoded: str) -> bool:
        return bool(self._handler.needs_update(self._phc(encoded)))

    def harden_runtime(self, password: str, encoded: str) -> None:
        """Parameter changes are upgraded on login; argon2 runtime is not padded here."""
